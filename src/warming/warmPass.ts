import { randomUUID } from 'node:crypto';
import { asc } from 'drizzle-orm';
import type { EntryWrite, L2Cache, RequestCache } from '../cache/l2Cache.js';
import type { EntryPolicies } from '../cache/entryPolicies.js';
import type { DatabaseHandle } from '../db/client.js';
import { insertAuditEvents } from '../db/insertAuditEvents.js';
import { listDepartments, listDoctors } from '../db/queries/listReference.js';
import { tenants } from '../db/tables/index.js';
import { isUuid } from '../graphql/ids.js';
import { createLoaders, type Loaders } from '../loaders/createLoaders.js';
import type { Logger } from '../logger.js';
import { describeError } from '../logger.js';
import { hotSetKey, parseHotMember, PHI_HOT_TYPES } from './hotSet.js';
import type { StatementBudget } from './statementBudget.js';
import type { WarmMetrics } from './warmMetrics.js';

/** What one pass did, as `npm run cache:warm` prints it and `cacheStats` reports it. */
export interface WarmReport {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly result: 'ok' | 'failed' | 'skipped';
  /** Entries written to L2, by type. */
  readonly entries: Readonly<Record<string, number>>;
  readonly statements: number;
  /** PHI entities read from Postgres (each PHI tenant's count is its audit event's). */
  readonly phiRead: number;
}

export interface WarmPassDeps {
  readonly database: DatabaseHandle;
  readonly l2: L2Cache;
  readonly entryPolicies: EntryPolicies;
  readonly logger: Logger;
  readonly metrics: WarmMetrics;
  readonly budget: StatementBudget;
  readonly phiTenants: ReadonlySet<string>;
  /** Ids per tenant and type read from each hot set. */
  readonly topK: number;
  /** Entries with less than about this long to live are written again (refresh-ahead). */
  readonly refreshAheadMs: number;
  /** Each score of a hot set is multiplied by this as the pass reads it: usage fades. */
  readonly decay: number;
  /** Patients found consent-withheld lately, skipped until they fall out (see the warmer). */
  readonly withheld: Map<string, number>;
  /**
   * The tenants and their reference ids, as the last passes listed them: listed again once a
   * minute, not every pass, so that a pass with nothing to refresh issues no SQL at all.
   */
  readonly listed: Map<string, { readonly at: number; readonly ids: ReadonlyArray<string> }>;
  /** Checked between batches: false stops the pass (the lease was lost, or the process stops). */
  readonly proceed?: () => boolean;
  /**
   * Asked of Redis itself just before a tenant's audit and writes: whether this process still
   * holds the lease. A holder frozen past its lease learns it here, not from a timer that may
   * run after its pass resumes.
   */
  readonly stillHolding?: () => Promise<boolean>;
  /** Told how many ids are planned and how many are done, for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Ids per SQL statement: each batch is one loader wave, one statement per type. */
const BATCH = 100;
const WITHHELD_MEMORY_MS = 60_000;
const LISTED_MEMORY_MS = 60_000;
const PHI_TYPES: ReadonlySet<string> = new Set(['Patient', 'MedicalRecord', 'Study']);

interface Step {
  readonly tenantId: string;
  readonly type: string;
  readonly ids: ReadonlyArray<string>;
  readonly run: (loaders: Loaders) => Promise<unknown>;
}

/**
 * One warming pass (SPEC §5): for every tenant, its reference data, and for tenants in
 * CACHE_WARM_PHI_TENANTS its hot patients with their lists, records and studies. Everything is
 * loaded through the request path (`createLoaders`): one L2 round trip and at most one SQL
 * statement per batch, generations read before Postgres, TTL caps, sealing and consent exactly
 * as for a request. An entry still fresh is a hit and costs nothing; one expiring soon reads as
 * a miss and is written again.
 *
 * PHI is written to L2 only once the tenant's audit event for the pass (action `warm`, actor
 * `system`, with the count) is committed; an audit that fails drops the pass's writes.
 */
export async function runWarmPass(deps: WarmPassDeps): Promise<WarmReport> {
  const started = Date.now();
  const passId = randomUUID();
  const entries: Record<string, number> = {};
  let statements = 0;
  let phiRead = 0;
  const finish = (result: WarmReport['result']): WarmReport => {
    deps.metrics.runs.inc({ result });
    for (const [type, count] of Object.entries(entries)) deps.metrics.entries.inc({ type }, count);
    return {
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      result,
      entries,
      statements,
      phiRead,
    };
  };
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    await deps.budget.ready();
    const { value, statements: spent } = await deps.database.countStatements(work);
    deps.budget.spend(spent);
    deps.metrics.statements.inc(spent);
    statements += spent;
    return value;
  };

  const { l2 } = deps;
  // Nothing to do while L2 is unusable, or while this process cannot prove it hears every
  // invalidation (its reads of L2 are misses then, and its writes would go unstamped).
  if (!(await l2.ensureTrusted()) || l2.store.open || !l2.fresh()) return finish('skipped');
  let failed = false;
  try {
    const tenantIds = await listedIds(deps, 'tenants', counted, async () =>
      (
        await deps.database.db.select({ id: tenants.id }).from(tenants).orderBy(asc(tenants.id))
      ).map((row) => row.id),
    );
    const plans: Array<{ tenantId: string; steps: Step[] }> = [];
    for (const tenantId of tenantIds) {
      plans.push({ tenantId, steps: await planTenant(deps, tenantId, counted) });
    }
    const total = plans.reduce(
      (sum, plan) => sum + plan.steps.reduce((n, s) => n + s.ids.length, 0),
      0,
    );
    let done = 0;
    deps.onProgress?.(0, total);
    for (const { tenantId, steps } of plans) {
      const outcome = await warmTenant(deps, tenantId, steps, passId, counted, entries, (n) => {
        done += n;
        deps.onProgress?.(done, total);
      });
      phiRead += outcome.phiRead;
      if (!outcome.ok) failed = true;
      if (deps.proceed?.() === false) break;
    }
  } catch (error) {
    deps.logger.warn({ err: describeError(error) }, 'warming pass failed');
    return finish('failed');
  }
  return finish(failed ? 'failed' : 'ok');
}

type Counted = <T>(work: () => Promise<T>) => Promise<T>;

/** The batches of one tenant: reference data, then (opted in) hot patients and their charts. */
async function planTenant(deps: WarmPassDeps, tenantId: string, counted: Counted): Promise<Step[]> {
  const steps: Step[] = [];
  const add = (
    type: string,
    ids: ReadonlyArray<string>,
    run: (loaders: Loaders, ids: string[]) => Promise<unknown>,
  ) => {
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      steps.push({ tenantId, type, ids: chunk, run: (loaders) => run(loaders, chunk) });
    }
  };
  // Reference data: all of it, a tenant's doctors and departments being few.
  const departmentIds = (
    await listedIds(deps, `${tenantId}:departments`, counted, async () =>
      (await listDepartments(deps.database.db, tenantId)).map((row) => row.id),
    )
  ).slice(0, deps.topK);
  const doctorIds = (
    await listedIds(deps, `${tenantId}:doctors`, counted, async () =>
      (await listDoctors(deps.database.db, tenantId)).map((row) => row.id),
    )
  ).slice(0, deps.topK);
  // Lists first: a list loaded from Postgres brings its rows, which the entity batches after
  // it then find in L1 instead of writing them a second time.
  add('Department.doctors', departmentIds, (loaders, ids) =>
    loaders.relations.departmentDoctors.loadMany(ids),
  );
  add('Department', departmentIds, (loaders, ids) => loaders.entities.Department.loadMany(ids));
  add('Doctor', doctorIds, (loaders, ids) => loaders.entities.Doctor.loadMany(ids));
  if (!deps.phiTenants.has(tenantId)) return steps;

  const warming = deps.l2.store.warming;
  if (warming === undefined) return steps;
  const sets = await Promise.all(
    PHI_HOT_TYPES.map(async (type) => ({
      type,
      members:
        (await warming.readHotSet(
          hotSetKey(deps.l2.space, tenantId, type),
          deps.topK,
          deps.decay,
        )) ?? [],
    })),
  );
  // A chart is a patient with their lists: every patient any hot set names (a record or study
  // by its patient), by total score. A record's own id is not trusted to be theirs: it is
  // warmed only as a row its patient's list names.
  const patientScores = new Map<string, number>();
  for (const { type, members } of sets) {
    for (const [member, score] of members) {
      const { id, owner } = parseHotMember(member);
      const patientId = type === 'MedicalRecord' || type === 'Study' ? owner : id;
      if (patientId === undefined || !isUuid(patientId) || !isUuid(id)) continue;
      if (isWithheld(deps, tenantId, patientId)) continue;
      patientScores.set(patientId, (patientScores.get(patientId) ?? 0) + score);
    }
  }
  const patients = [...patientScores]
    .sort((a, b) => b[1] - a[1])
    .slice(0, deps.topK)
    .map(([id]) => id);
  // Hottest first, a chart at a time: each batch of patients, then their lists with the rows
  // they name, so that the charts most asked for are whole soonest.
  for (let i = 0; i < patients.length; i += BATCH) {
    const chunk = patients.slice(i, i + BATCH);
    add('Patient', chunk, (loaders, ids) => loaders.entities.Patient.loadMany(ids));
    // A patient the batch before found consent-withheld is read no further: not their lists,
    // records or studies (nothing of theirs would be cached anyway).
    const consenting = (ids: ReadonlyArray<string>) =>
      ids.filter((id) => !isWithheld(deps, tenantId, id));
    // Each list, then the records or studies it names, as a chart reads them: an entry that
    // expires sooner than its list (a record's notes live 60 s, a study's status 30 s) is
    // refreshed through the list that names it, whichever of the two is still fresh.
    const listThenRows =
      (relation: 'patientRecords' | 'patientStudies', entity: 'MedicalRecord' | 'Study') =>
      async (loaders: Loaders, ids: string[]) => {
        const owners = consenting(ids);
        const lists = await loaders.relations[relation].loadMany(owners);
        const named: string[] = [];
        lists.forEach((list, i) => {
          if (!Array.isArray(list)) return;
          const owner = owners[i] as string;
          for (const id of list) {
            // A list names its owner's rows only: whose generation stamps each is known.
            const key = `${tenantId}:${id}`;
            if (!deps.l2.patientOf.has(key)) deps.l2.patientOf.set(key, owner);
            named.push(id);
          }
        });
        return entity === 'MedicalRecord'
          ? loaders.entities.MedicalRecord.loadMany(named)
          : loaders.entities.Study.loadMany(named);
      };
    add('Patient.records', chunk, listThenRows('patientRecords', 'MedicalRecord'));
    add('Patient.studies', chunk, listThenRows('patientStudies', 'Study'));
    add('Patient.careTeam', chunk, (loaders, ids) =>
      loaders.relations.patientCareTeam.loadMany(consenting(ids)),
    );
  }
  return steps;
}

/**
 * Runs a tenant's batches through one set of loaders, then commits the audit event for the PHI
 * it read, then writes to L2 what the batches loaded.
 */
async function warmTenant(
  deps: WarmPassDeps,
  tenantId: string,
  steps: ReadonlyArray<Step>,
  passId: string,
  counted: Counted,
  entries: Record<string, number>,
  progressed: (ids: number) => void,
): Promise<{ ok: boolean; phiRead: number }> {
  const writes: Array<() => Promise<void>> = [];
  const phiFromDb = new Set<string>();
  const target = deps.l2.forRequest(tenantId, { near: false, refreshAheadMs: deps.refreshAheadMs });
  // Every entry the batches would write is held here until the audit event covering what was
  // read is committed: nothing of a patient reaches L2 unaudited, lists included.
  const held: Array<ReadonlyArray<EntryWrite>> = [];
  const cache: RequestCache = {
    ...target,
    write: (batch) => {
      held.push(batch);
      return Promise.resolve(true);
    },
  };
  const loaders = createLoaders(
    {
      db: deps.database.db,
      tenantId,
      l2: deps.l2,
      cache,
      entryPolicies: deps.entryPolicies,
      warming: true,
      defer: (write) => {
        writes.push(write);
      },
      onSource: (type, id, source) => {
        if (source === 'db' && PHI_TYPES.has(type)) phiFromDb.add(`${type}:${id}`);
      },
    },
    { batching: true, readAhead: false },
  );
  let ok = true;
  for (const step of steps) {
    if (deps.proceed?.() === false) break;
    try {
      const rows = await counted(() => step.run(loaders));
      if (step.type === 'Patient') rememberWithheld(deps, tenantId, rows);
    } catch (error) {
      ok = false;
      deps.logger.warn({ err: describeError(error), type: step.type }, 'a warming batch failed');
    }
    progressed(step.ids.length);
  }
  // The entries, computed now (a record's consent check may read its patient's row: counted).
  for (const write of writes) {
    try {
      await counted(write);
    } catch (error) {
      ok = false;
      deps.logger.warn({ err: describeError(error) }, 'a warming write failed');
    }
  }
  const entriesHeld = held.flat();
  const phiLists = entriesHeld.filter(
    (entry) => entry.scope.kind === 'patient' && Array.isArray(entry.value),
  ).length;
  const phi = phiFromDb.size + phiLists;
  // The lease lost meanwhile (a holder frozen past its lease, say): another warmer has taken
  // over, and what this one read is old. It writes and audits nothing.
  if (deps.proceed?.() === false || (await deps.stillHolding?.()) === false) {
    return { ok: false, phiRead: 0 };
  }
  if (phi > 0) {
    try {
      await counted(() =>
        insertAuditEvents(deps.database.db, [
          {
            tenantId,
            actorId: 'system',
            actorRole: 'system',
            action: 'warm',
            resourceType: 'Cache',
            requestId: passId,
            outcome: 'allowed',
            entityCount: phi,
          },
        ]),
      );
    } catch (error) {
      // No audit, no PHI: nothing this tenant's batches read goes to L2.
      deps.logger.error({ err: describeError(error) }, 'warming audit failed; nothing written');
      return { ok: false, phiRead: phi };
    }
  }
  for (const batch of held) {
    if (await target.write(batch)) {
      for (const entry of batch) {
        const type = entryType(entry.key, entry.value);
        entries[type] = (entries[type] ?? 0) + 1;
      }
    } else {
      ok = false;
    }
  }
  return { ok, phiRead: phi };
}

/** `Patient` for an entity's key, `Patient.records` for a list's (see buildCacheKey). */
function entryType(key: string, value: unknown): string {
  const parts = key.slice(key.indexOf('}:') + 2).split(':');
  return Array.isArray(value) ? `${parts[0] ?? ''}.${parts[2] ?? ''}` : (parts[0] ?? '');
}

async function listedIds(
  deps: WarmPassDeps,
  name: string,
  counted: Counted,
  list: () => Promise<string[]>,
): Promise<ReadonlyArray<string>> {
  const known = deps.listed.get(name);
  if (known !== undefined && Date.now() - known.at < LISTED_MEMORY_MS) return known.ids;
  const ids = await counted(list);
  deps.listed.set(name, { at: Date.now(), ids });
  return ids;
}

function isWithheld(deps: WarmPassDeps, tenantId: string, patientId: string): boolean {
  const key = `${tenantId}:${patientId}`;
  const until = deps.withheld.get(key);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  deps.withheld.delete(key);
  return false;
}

/** A patient whose consent is withheld is not read again for a minute (their lookups stay hot). */
function rememberWithheld(deps: WarmPassDeps, tenantId: string, rows: unknown): void {
  if (!Array.isArray(rows)) return;
  for (const row of rows as unknown[]) {
    if (
      row !== null &&
      typeof row === 'object' &&
      'consentGranted' in row &&
      row.consentGranted === false &&
      'id' in row
    ) {
      deps.withheld.set(`${tenantId}:${String(row.id)}`, Date.now() + WITHHELD_MEMORY_MS);
    }
  }
}
