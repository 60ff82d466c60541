import type { Resolvers } from '../generated/graphql.js';
import { auditResolvers } from './audit.js';
import { auditEventPageResolvers } from './auditEventPage.js';
import { cacheResolvers } from './cache.js';
import { careTeamResolvers } from './careTeam.js';
import { departmentResolvers } from './department.js';
import { doctorResolvers } from './doctor.js';
import { patientResolvers } from './patient.js';
import { recordResolvers } from './record.js';
import { studyResolvers } from './study.js';

/** Every resolver, merged per type. */
export const resolvers: Resolvers[] = [
  patientResolvers,
  recordResolvers,
  studyResolvers,
  doctorResolvers,
  departmentResolvers,
  auditResolvers,
  auditEventPageResolvers,
  cacheResolvers,
  careTeamResolvers,
];
