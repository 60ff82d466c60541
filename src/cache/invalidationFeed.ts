import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database, DatabaseHandle, Listening } from '../db/client.js';
import { describeError, type Logger } from '../logger.js';
import { scopeName, type GenerationScope } from './cacheKey.js';
import type { L2Cache } from './l2Cache.js';
import { SHORT_FLOOR_TTL_MS } from './invalidationFloors.js';

/**
 * The invalidation path that does not depend on Redis (SPEC §2.8). Every write inserts its
 * invalidation into `cache_invalidations` and NOTIFYs it, in its own transaction
 * (`publishInvalidation`): Postgres delivers it to every listening instance when, and only
 * when, the write commits. Each instance then stops serving the scopes from L2
 * (`L2Cache.observe`) until it reads generations made after the write, whatever Redis did
 * with the writer's own bump: refused it (read-only), froze, or lost it in a restart.
 *
 * The outbox row is what makes this survive a lost connection. An instance that (re)connects
 * reads the last minutes of it, and the floors of long-lived scopes, before it trusts what it
 * heard. A ping it NOTIFYs to itself every second tells it when its listening connection
 * has silently stopped delivering, and it listens again.
 */
export const INVALIDATION_CHANNEL = 'caregraph_cache_invalidation';

/** Scopes whose entries live for hours: their floors outlive the outbox (`cache_scope_floors`). */
const isLongLived = (scope: GenerationScope): boolean =>
  scope.kind === 'reference' || scope.kind === 'tenant';

/**
 * Publishes a write's invalidation inside its transaction, in one statement: the outbox row,
 * the floors of long-lived scopes (raised, never lowered), and the NOTIFY.
 *
 * @returns the invalidation's sequence number, which the writer's own L2 bump carries.
 */
export async function publishInvalidation(
  tx: Pick<Database, 'execute'>,
  tenantId: string,
  scopes: ReadonlyArray<GenerationScope>,
): Promise<number> {
  const names = JSON.stringify(scopes.map(scopeName));
  const longLived = JSON.stringify(scopes.filter(isLongLived).map(scopeName));
  const result = await tx.execute(sql`
    with published as (
      insert into cache_invalidations (tenant_id, scopes)
      values (${tenantId}, array(select json_array_elements_text(${names}::text::json)))
      returning seq, tenant_id, scopes
    ), floors as (
      insert into cache_scope_floors (tenant_id, scope, seq)
      select published.tenant_id, scope, published.seq
      from published, json_array_elements_text(${longLived}::text::json) as scope
      on conflict (tenant_id, scope)
        do update set seq = greatest(cache_scope_floors.seq, excluded.seq)
    )
    select seq, pg_notify(${INVALIDATION_CHANNEL},
      json_build_object('seq', seq, 'tenant', tenant_id, 'scopes', scopes)::text)
    from published`);
  const [row] = rowsOf(result) as Array<{ seq: number | string }>;
  const seq = Number(row?.seq);
  if (!Number.isSafeInteger(seq) || seq <= 0) throw new Error('no invalidation sequence number');
  return seq;
}

/** One invalidation as it travels: its sequence number, tenant and scopes. */
export interface Invalidation {
  readonly seq: number;
  readonly tenantId: string;
  readonly scopes: ReadonlyArray<GenerationScope>;
}

const PATIENT_SCOPE = /^patient:([0-9a-f-]{36})$/;

/** A scope from its `scopeName`; undefined for anything else. */
export function parseScopeName(name: unknown): GenerationScope | undefined {
  if (name === 'reference' || name === 'search' || name === 'tenant') return { kind: name };
  if (typeof name !== 'string') return undefined;
  const patient = PATIENT_SCOPE.exec(name);
  return patient === null ? undefined : { kind: 'patient', patientId: patient[1] as string };
}

/**
 * An invalidation from its NOTIFY payload or outbox row; undefined when it is not one (any
 * database user may NOTIFY on the channel). Scopes it cannot name are dropped.
 */
export function parseInvalidation(value: unknown): Invalidation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, tenant, scopes } = value as Record<string, unknown>;
  const number = typeof seq === 'string' ? Number(seq) : seq;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) return undefined;
  if (typeof tenant !== 'string' || tenant.length === 0 || !Array.isArray(scopes)) return undefined;
  const parsed = scopes.map(parseScopeName).filter((s): s is GenerationScope => s !== undefined);
  return { seq: number, tenantId: tenant, scopes: parsed };
}

export interface InvalidationFeedOptions {
  /** How often the feed NOTIFYs itself to prove it still hears; 250 ms by default. */
  readonly pingIntervalMs?: number;
  /** How long a ping may take to come back before the feed listens again; 1.5 s by default. */
  readonly pingTimeoutMs?: number;
  /** How long a proof of hearing vouches for L2 (`fresh`); FRESH_MS by default. */
  readonly freshMs?: number;
}

export interface InvalidationFeed {
  /** Whether the feed is listening and its last ping came back. */
  readonly up: boolean;
  /**
   * Whether this process has proved, within `FRESH_MS`, that it had heard every invalidation
   * committed until then. L2 is served from only while it is (SPEC §2.8).
   */
  readonly fresh: boolean;
  close(): Promise<void>;
}

const PRUNE_EVERY_PINGS = 240;
/**
 * How recently the feed must have proved it hears, for L2 to be served from: an instance cut
 * from Postgres (or whose listening connection stalls) stops serving L2 this long after the
 * last invalidation it could have missed, whatever state Redis is in. Pings go every 250 ms.
 */
export const FRESH_MS = 1_000;
// Notified numbers read back per statement.
const VERIFY_CHUNK = 1_000;
const VERIFY = `
  select seq, tenant_id as tenant, array_to_json(scopes) as scopes from cache_invalidations
  where seq = any($1::bigint[])`;
const PRUNE = `delete from cache_invalidations where committed_at < now() - interval '1 hour'`;
// Scopes as JSON: with no types fetched, postgres.js leaves a text[] as its literal.
const CATCH_UP = `
  select seq, tenant_id as tenant, array_to_json(scopes) as scopes from cache_invalidations
  where committed_at > now() - make_interval(secs => $1::int)
  union all
  select seq, tenant_id, json_build_array(scope) from cache_scope_floors`;

/**
 * Listens for invalidations on Postgres and hands each to `l2.observe`. Resolves once the
 * first catch-up is done, so that a new instance knows every recent write before it serves;
 * when Postgres cannot be reached it resolves anyway, logs, and keeps trying.
 *
 * @returns undefined for the embedded database, which only one process can open: there, every
 *   write is observed by the process that made it.
 */
export async function startInvalidationFeed(deps: {
  readonly database: DatabaseHandle;
  readonly l2: L2Cache;
  readonly logger: Logger;
  readonly options?: InvalidationFeedOptions;
}): Promise<InvalidationFeed | undefined> {
  const { database, l2, logger } = deps;
  const listen = database.listen;
  if (listen === undefined) return undefined;
  const pingIntervalMs = deps.options?.pingIntervalMs ?? 250;
  const pingTimeoutMs = deps.options?.pingTimeoutMs ?? 1_500;
  const freshMs = deps.options?.freshMs ?? FRESH_MS;
  const metrics = l2.metrics;
  const self = randomUUID();
  let closed = false;
  let up = false;
  let current: Listening | undefined;
  let pingSent = 0;
  let pingHeard = 0;
  // When the feed last proved it had heard every invalidation committed so far: the send time
  // of its last ping heard back (notifications arrive in commit order), or the start of its
  // last catch-up.
  let confirmedAt = 0;
  let pings = 0;
  let listening: Promise<void> | undefined;

  const setUp = (value: boolean) => {
    if (up !== value) logger[value ? 'info' : 'warn'](`invalidation feed ${value ? 'up' : 'down'}`);
    up = value;
    metrics.invalidationFeedUp.set(value ? 1 : 0);
  };

  const apply = (invalidation: Invalidation | undefined, source: 'notify' | 'catchup') => {
    if (invalidation === undefined || invalidation.scopes.length === 0) return;
    l2.observe(invalidation.tenantId, invalidation.scopes, invalidation.seq);
    metrics.invalidationsReceived.inc({ source });
  };

  // A payload is only a hint: any role that can connect may NOTIFY, with any sequence number
  // (one far ahead would make the floor unreachable by later writes, and let a replay of a
  // generation made at it outlive them all). What is applied is the outbox row of that number,
  // read back in one statement for the notifications of the same tick.
  let verifying: Set<number> | undefined;
  const verify = (seq: number) => {
    if (verifying === undefined) {
      verifying = new Set();
      setImmediate(() => {
        const all = [...(verifying ?? [])];
        verifying = undefined;
        const over = current;
        if (over === undefined) return;
        for (let i = 0; i < all.length; i += VERIFY_CHUNK) {
          const seqs = all.slice(i, i + VERIFY_CHUNK);
          over.query(VERIFY, [`{${seqs.join(',')}}`]).then(
            (rows) => {
              for (const row of rows) apply(parseInvalidation(row), 'notify');
              metrics.invalidationsRejected.inc(Math.max(0, seqs.length - rows.length));
            },
            (error: unknown) => {
              // The feed's own pings and catch-up notice a connection that stopped answering.
              logger.warn({ err: describeError(error) }, 'cannot read back notified invalidations');
            },
          );
        }
      });
    }
    verifying.add(seq);
  };
  const onNotify = (payload: string) => {
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      metrics.invalidationsRejected.inc();
      return;
    }
    if (typeof value === 'object' && value !== null && 'ping' in value) {
      if (value.ping === self && pingSent > 0) {
        pingHeard = Date.now();
        confirmedAt = pingSent;
      }
      return;
    }
    const invalidation = parseInvalidation(value);
    if (invalidation === undefined) metrics.invalidationsRejected.inc();
    else verify(invalidation.seq);
  };

  // Everything committed in the last minutes, and the floors of long-lived scopes: run on
  // every (re)connect, since notifications sent while not listening are gone.
  const catchUp = async (over: Listening) => {
    const startedAt = Date.now();
    const rows = await over.query(CATCH_UP, [String(Math.ceil(SHORT_FLOOR_TTL_MS / 1000))]);
    for (const row of rows) apply(parseInvalidation(row), 'catchup');
    confirmedAt = Math.max(confirmedAt, startedAt);
  };

  const startListening = async (): Promise<void> => {
    // Not awaited: over a connection that stopped delivering, UNLISTEN may wait for long.
    void current?.unlisten().catch(() => undefined);
    current = undefined;
    // Set once listen() resolves: postgres.js calls onListen on every (re)connect of its
    // listening connection, the first one included, before listen() resolves.
    const opened: { handle?: Listening } = {};
    const onListen = () => {
      if (opened.handle !== undefined) void caughtUpOver(opened.handle).catch(() => undefined);
    };
    opened.handle = await listen(INVALIDATION_CHANNEL, onNotify, onListen);
    current = opened.handle;
    // The first catch-up, awaited: a new instance knows every recent write before it serves.
    await caughtUpOver(opened.handle);
  };

  const caughtUpOver = (over: Listening): Promise<void> => {
    const done = catchUp(over).then(
      () => {
        pingHeard = Date.now();
        setUp(true);
      },
      (error: unknown) => {
        setUp(false);
        throw error;
      },
    );
    done.catch((error: unknown) => {
      logger.warn({ err: describeError(error) }, 'invalidation catch-up failed');
    });
    return done;
  };

  const relisten = () => {
    listening ??= startListening()
      .catch((error: unknown) => {
        setUp(false);
        logger.warn({ err: describeError(error) }, 'cannot listen for invalidations');
      })
      .finally(() => {
        listening = undefined;
      });
    return listening;
  };

  const tick = async () => {
    if (closed || listening !== undefined) return;
    if (pingSent > 0 && pingHeard < pingSent && Date.now() - pingSent > pingTimeoutMs) {
      // The last ping never came back: the listening connection has stopped delivering.
      setUp(false);
      pingSent = 0;
      await relisten();
      return;
    }
    const over = current;
    if (over === undefined) {
      await relisten();
      return;
    }
    if (pingSent === 0 || pingHeard >= pingSent) {
      pingSent = Date.now();
      await over
        .query('select pg_notify($1, $2)', [INVALIDATION_CHANNEL, JSON.stringify({ ping: self })])
        .catch(() => undefined);
    }
    if (++pings % PRUNE_EVERY_PINGS === 0) {
      await over.query(PRUNE, []).catch((error: unknown) => {
        logger.warn({ err: describeError(error) }, 'cannot prune cache_invalidations');
      });
    }
  };

  const timer = setInterval(() => {
    void tick();
  }, pingIntervalMs);
  timer.unref();
  metrics.invalidationFeedUp.set(0);
  await relisten();

  return {
    get up() {
      return up;
    },
    get fresh() {
      return up && Date.now() - confirmedAt < freshMs;
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      await listening;
      await current?.unlisten().catch(() => undefined);
      setUp(false);
    },
  };
}

/** The rows of `db.execute`: postgres.js answers an array, PGlite `{ rows }`. */
function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return result;
  const rows = (result as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? rows : [];
}
