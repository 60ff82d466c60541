import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { makeExecutableSchema } from '@graphql-tools/schema';
import fastify, { type FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/client.js';
import {
  careTeam,
  departments,
  doctors,
  medicalRecords,
  patients,
  studies,
  type DepartmentRow,
  type DoctorRow,
  type MedicalRecordRow,
  type PatientRow,
  type StudyRow,
} from '../../src/db/tables/index.js';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';
import { loadManifestOperations } from '../operations.js';

interface Snapshot {
  readonly patients: Map<string, PatientRow>;
  readonly records: Map<string, MedicalRecordRow>;
  readonly studies: Map<string, StudyRow>;
  readonly doctors: Map<string, DoctorRow>;
  readonly departments: Map<string, DepartmentRow>;
  readonly recordsOf: Map<string, MedicalRecordRow[]>;
  readonly studiesOf: Map<string, StudyRow[]>;
  readonly teamOf: Map<string, DoctorRow[]>;
  readonly doctorsOf: Map<string, DoctorRow[]>;
  readonly byMrn: Map<string, PatientRow>;
  readonly byLastName: Map<string, PatientRow[]>;
}

/**
 * The benchmark's ceiling: the same schema, answered from in-process Maps loaded once at start,
 * with no I/O, no authentication, no permission rules and no audit. No real deployment could
 * be this fast; it bounds what any cache in front of Postgres could reach.
 */
export async function createCeilingServer(db: Database): Promise<FastifyInstance> {
  const data = await loadSnapshot(db);
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: resolversOver(data) });
  // Manifest ids answer from Apollo's own persisted-query cache, filled at start.
  const documents = new InMemoryLRUCache<string>();
  for (const op of loadManifestOperations().values()) await documents.set(`apq:${op.id}`, op.body);
  const apollo = new ApolloServer({
    schema,
    persistedQueries: { cache: documents },
    allowBatchedHttpRequests: true,
    csrfPrevention: false,
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();
  const app = fastify();
  app.addHook('onClose', async () => {
    await apollo.stop();
  });
  app.route({ url: '/graphql', method: ['GET', 'POST'], handler: fastifyApolloHandler(apollo) });
  app.get('/readyz', () => ({ status: 'ready' }));
  app.get('/metrics', () => '');
  return app;
}

async function loadSnapshot(db: Database): Promise<Snapshot> {
  const [patientRows, recordRows, studyRows, doctorRows, departmentRows, teamRows] =
    await Promise.all([
      db.select().from(patients),
      db.select().from(medicalRecords),
      db.select().from(studies),
      db.select().from(doctors),
      db.select().from(departments),
      db.select().from(careTeam),
    ]);
  const group = <T, K>(rows: T[], keyOf: (row: T) => K): Map<K, T[]> => {
    const groups = new Map<K, T[]>();
    for (const row of rows) {
      const list = groups.get(keyOf(row));
      if (list === undefined) groups.set(keyOf(row), [row]);
      else list.push(row);
    }
    return groups;
  };
  const doctorsById = new Map(doctorRows.map((d) => [d.id, d]));
  const newestFirst =
    <T extends { id: string }>(at: (row: T) => string) =>
    (a: T, b: T) =>
      at(b).localeCompare(at(a)) || a.id.localeCompare(b.id);
  const recordsOf = group(recordRows, (r) => r.patientId);
  for (const list of recordsOf.values()) list.sort(newestFirst((r) => r.recordedAt));
  const studiesOf = group(studyRows, (s) => s.patientId);
  for (const list of studiesOf.values()) list.sort(newestFirst((s) => s.startedAt));
  const teamOf = new Map(
    [...group(teamRows, (t) => t.patientId)].map(([patientId, links]) => [
      patientId,
      links
        .map((link) => doctorsById.get(link.doctorId))
        .filter((d): d is DoctorRow => d !== undefined)
        .sort((a, b) => a.name.localeCompare(b.name)),
    ]),
  );
  return {
    patients: new Map(patientRows.map((p) => [p.id, p])),
    records: new Map(recordRows.map((r) => [r.id, r])),
    studies: new Map(studyRows.map((s) => [s.id, s])),
    doctors: doctorsById,
    departments: new Map(departmentRows.map((d) => [d.id, d])),
    recordsOf,
    studiesOf,
    teamOf,
    doctorsOf: group(doctorRows, (d) => d.departmentId),
    byMrn: new Map(patientRows.map((p) => [p.mrn, p])),
    byLastName: group(patientRows, (p) => (p.name.split(' ').at(-1) ?? '').toLowerCase()),
  };
}

function resolversOver(data: Snapshot) {
  const byId =
    <T>(map: Map<string, T>) =>
    (_root: unknown, args: { id: string }) =>
      map.get(args.id) ?? null;
  return {
    Query: {
      patient: byId(data.patients),
      patients: (_root: unknown, args: { search: string; first: number }) => {
        const exact = data.byMrn.get(args.search.toUpperCase());
        const found = exact ? [exact] : (data.byLastName.get(args.search.toLowerCase()) ?? []);
        return found.slice(0, args.first);
      },
      medicalRecord: byId(data.records),
      study: byId(data.studies),
      doctor: byId(data.doctors),
      doctors: (_root: unknown, args: { departmentId?: string | null }) =>
        args.departmentId
          ? (data.doctorsOf.get(args.departmentId) ?? [])
          : [...data.doctors.values()],
      department: byId(data.departments),
      departments: () => [...data.departments.values()],
      auditEvents: () => [],
    },
    Mutation: {
      updatePatient: (_root: unknown, args: { id: string; input: { phone?: string } }) => {
        const row = data.patients.get(args.id);
        if (row === undefined) throw new Error('not found');
        const updated = { ...row, phone: args.input.phone ?? row.phone };
        data.patients.set(row.id, updated);
        return updated;
      },
      updateStudyReport: (
        _root: unknown,
        args: { id: string; reportStatus: StudyRow['reportStatus']; report?: string },
      ) => {
        const row = data.studies.get(args.id);
        if (row === undefined) throw new Error('not found');
        const updated = { ...row, reportStatus: args.reportStatus, report: args.report ?? null };
        data.studies.set(row.id, updated);
        return updated;
      },
    },
    Patient: {
      primaryDoctor: (p: PatientRow) =>
        p.primaryDoctorId === null ? null : (data.doctors.get(p.primaryDoctorId) ?? null),
      careTeam: (p: PatientRow) => data.teamOf.get(p.id) ?? [],
      records: (p: PatientRow, args: { first: number }) =>
        (data.recordsOf.get(p.id) ?? []).slice(0, args.first),
      studies: (p: PatientRow) =>
        (data.studiesOf.get(p.id) ?? []).map((s) => data.studies.get(s.id) ?? s),
    },
    MedicalRecord: {
      patient: (r: MedicalRecordRow) => data.patients.get(r.patientId),
      author: (r: MedicalRecordRow) =>
        r.authorId === null ? null : (data.doctors.get(r.authorId) ?? null),
    },
    Study: {
      patient: (s: StudyRow) => data.patients.get(s.patientId),
      orderingDoctor: (s: StudyRow) =>
        s.orderingDoctorId === null ? null : (data.doctors.get(s.orderingDoctorId) ?? null),
    },
    Doctor: { department: (d: DoctorRow) => data.departments.get(d.departmentId) },
    Department: { doctors: (d: DepartmentRow) => data.doctorsOf.get(d.id) ?? [] },
  };
}
