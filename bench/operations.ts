import { readFileSync } from 'node:fs';

/**
 * The operations the benchmark's portal mix sends: what clinician, patient and front-desk
 * portals ask, and two of the mobile app's persisted operations, sent by manifest id over GET.
 */
export const PORTAL_OPERATIONS = {
  Chart: `query Chart($id: ID!) {
  patient(id: $id) {
    id mrn name birthDate sex phone consentGranted
    primaryDoctor { id name title }
    careTeam { id name specialty department { id name } }
    records(first: 20) { id recordedAt diagnosisCode diagnosis notes author { id name department { id name } } }
    studies { id modality description startedAt imageCount reportStatus report orderingDoctor { id name } }
  }
}`,
  SearchPatients: `query SearchPatients($search: String!) {
  patients(search: $search, first: 10) { id mrn name birthDate sex }
}`,
  Departments: `query Departments { departments { id name location } }`,
  Doctor: `query Doctor($id: ID!) {
  doctor(id: $id) { id name title specialty department { id name location } }
}`,
  UpdatePatient: `mutation UpdatePatient($id: ID!, $phone: String!) {
  updatePatient(id: $id, input: { phone: $phone }) { id phone }
}`,
  UpdateStudyReport: `mutation UpdateStudyReport($id: ID!, $report: String!) {
  updateStudyReport(id: $id, reportStatus: FINAL, report: $report) { id reportStatus report }
}`,
} as const;

export type PortalOperation = keyof typeof PORTAL_OPERATIONS;
export type MobileOperation = 'MobileChart' | 'MobileDoctors';
export type OperationName = PortalOperation | MobileOperation;

/** The client name mobile requests carry; the server holds them to the manifest. */
export const MOBILE_CLIENT_NAME = 'caregraph-ios';

interface ManifestOperation {
  readonly id: string;
  readonly name: string;
  readonly body: string;
}

/** The persisted-query manifest's operations, by name. */
export function loadManifestOperations(
  path = new URL('../persisted-queries/manifest.json', import.meta.url),
): Map<string, ManifestOperation> {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
    operations: ManifestOperation[];
  };
  return new Map(manifest.operations.map((op) => [op.name, op]));
}

export function isMobileOperation(name: OperationName): name is MobileOperation {
  return name === 'MobileChart' || name === 'MobileDoctors';
}
