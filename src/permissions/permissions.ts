import { deny, shield } from 'graphql-shield';
import { ForbiddenError } from '../errors.js';
import {
  canAddMedicalRecord,
  canQueryClinicalEntry,
  canQueryPatient,
  canReadChart,
  canReadClinicalEntry,
  canReadDemographics,
  canSeeConsent,
  canSetConsent,
  canUpdatePatient,
  canUpdateStudyReport,
  hasRole,
  isSignedIn,
} from './rules.js';

const isAdmin = hasRole('admin');
const isAuditor = hasRole('auditor');
const isFrontdesk = hasRole('frontdesk');

/**
 * The shield rule tree. Deny by default: a field without a rule is FORBIDDEN. Rules run on
 * every field whatever layer served its parent, so a cached value is never a bypass.
 */
export const permissions = shield(
  {
    Query: {
      patient: canQueryPatient,
      patients: hasRole('clinician', 'frontdesk', 'patient'),
      medicalRecord: canQueryClinicalEntry('MedicalRecord'),
      study: canQueryClinicalEntry('Study'),
      doctor: isSignedIn,
      doctors: isSignedIn,
      department: isSignedIn,
      departments: isSignedIn,
      auditEvents: isAuditor,
    },
    Mutation: {
      updatePatient: canUpdatePatient,
      addMedicalRecord: canAddMedicalRecord,
      updateStudyReport: canUpdateStudyReport,
      setConsent: canSetConsent,
      addCareTeamMember: isFrontdesk,
      removeCareTeamMember: isFrontdesk,
      updateDoctor: isAdmin,
      purgeCache: isAdmin,
    },
    Patient: {
      '*': canReadChart,
      id: canSeeConsent,
      consentGranted: canSeeConsent,
      mrn: canReadDemographics,
      name: canReadDemographics,
      birthDate: canReadDemographics,
      sex: canReadDemographics,
      phone: canReadDemographics,
    },
    MedicalRecord: { '*': canReadClinicalEntry },
    Study: { '*': canReadClinicalEntry },
    Doctor: { '*': isSignedIn },
    Department: { '*': isSignedIn },
    AuditEvent: { '*': isAuditor },
  },
  {
    fallbackRule: deny,
    // Errors thrown by resolvers keep their own codes; rule denials become FORBIDDEN.
    allowExternalErrors: true,
    fallbackError: () => new ForbiddenError(),
    debug: false,
  },
);
