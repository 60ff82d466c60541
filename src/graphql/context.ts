import type { CacheStats } from '../warming/cacheStats.js';
import type { Principal } from '../auth/principal.js';
import type { GenerationScope } from '../cache/cacheKey.js';
import type { EntryPolicies } from '../cache/entryPolicies.js';
import type { L2Cache, RequestCache } from '../cache/l2Cache.js';
import { publishInvalidation } from '../cache/invalidationFeed.js';
import { invalidationScopes } from '../cache/scopes.js';
import type { Database } from '../db/client.js';
import type { EntityName, EntityRows } from '../db/entities.js';
import type { FinishWrite } from '../db/mutations/finishWrite.js';
import { insertAuditRow } from '../db/mutations/insertAuditRow.js';
import type { SearchScope } from '../db/queries/searchPatients.js';
import type { NewAuditEvent, PatientRow } from '../db/tables/index.js';
import type { HttpCachePolicy } from '../policy/cachePolicy.js';
import { createLoaders, type LoaderOptions, type Loaders } from '../loaders/createLoaders.js';
import { cachedSearchPatients } from '../loaders/searchPatients.js';
import { refreshAfterWrite } from '../loaders/refreshAfterWrite.js';
import type { LookupTally } from '../loaders/lookupTally.js';
import { CacheInvalidationDelayedError } from '../errors.js';
import { describeError, type Logger } from '../logger.js';
import type { GraphQLError } from 'graphql';
import { createAuditTrail, type AuditTrail, type CacheSource } from '../audit/auditTrail.js';

/** Everything a resolver or permission rule may use. Built fresh for every operation (a batch builds one per operation). */
export interface RequestContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly db: Database;
  readonly loaders: Loaders;
  readonly cache: RequestCache;
  readonly clientAddress: string;
  /** The reason a clinician gave for break-glass access, when they invoked it. */
  readonly breakGlassReason: string | undefined;
  readonly audit: AuditTrail;
  /**
   * Permission decisions this request has made, by subject: every field of a chart asks the
   * same question. Emptied by every write of the request, so none outlives what it read.
   */
  readonly decisions: Map<string, Promise<unknown>>;
  /** The layer that first served an entity to this request. */
  sourceOf(type: string, id: string): CacheSource;
  /** `patients(search)`, through L2. */
  searchPatients(term: string, first: number, scope: SearchScope): Promise<PatientRow[]>;
  /** L2 writes still under way; the response is sent once they settle. */
  readonly pendingWrites: Array<Promise<void>>;
  /** Errors to add to a response whose data is sound (a write committed, say). */
  readonly warnings: GraphQLError[];
  /**
   * What the HTTP layer learns of the operation once it has run. Apollo hands resolvers and
   * plugins a shallow copy of the context, so state they share with the route handler lives
   * in objects like this one, never in the context's own properties.
   */
  readonly outcome: {
    cachePolicy: HttpCachePolicy | undefined;
    /** True once the operation is known to be a query (which writes nothing). */
    query?: boolean;
    /** For the request log: the operation's name as Apollo resolved it (null: anonymous). */
    operationName?: string | null;
    /** For the request log: how the operation's text arrived. */
    persisted?: 'text' | 'manifest' | 'apq' | 'apqRegister';
    /** For the request log: the codes of the errors its response carries. */
    errorCodes?: ReadonlyArray<string>;
  };
  /**
   * The last step of a write's transaction: inserts its audit row, then publishes the scopes
   * the written row makes stale through Postgres (`publishInvalidation`), so that every
   * instance hears of the write when it commits, whatever state Redis is in.
   */
  finishWrite<E extends EntityName>(
    entity: E,
    audit: (row: EntityRows[E]) => NewAuditEvent,
  ): FinishWrite<EntityRows[E]>;
  /**
   * After a committed write: primes this request's L1 with the row and makes every L2 entry
   * the write affects unreadable, on every instance, before the mutation answers.
   */
  afterWrite<E extends EntityName>(entity: E, row: EntityRows[E]): Promise<void>;
  /**
   * Makes every L2 entry under these scopes unreadable and empties this request's L1. When L2
   * cannot be reached, it is flushed whole before it is read again, so the purge still holds.
   *
   * @param seq the purge's invalidation, published with its audit row (`publishInvalidation`).
   */
  purge(scopes: ReadonlyArray<GenerationScope>, seq: number): Promise<void>;
  /** The cache's figures for the caller's tenant; null where the service has none. */
  cacheStats(): Promise<CacheStats | null>;
}

export interface ContextDeps {
  readonly db: Database;
  readonly l2: L2Cache;
  /** The cache's figures for a tenant (the `cacheStats` query). */
  readonly cacheStats?: (tenantId: string) => Promise<CacheStats>;
  readonly entryPolicies: EntryPolicies;
  readonly logger: Logger;
  /** Batching and L1 on (the default) or off (the benchmark's N+1 baseline). */
  readonly loaderOptions?: LoaderOptions;
}

export interface IncomingRequest {
  readonly requestId: string;
  /** The caller, already authenticated by the HTTP layer. */
  readonly principal: Principal;
  readonly clientAddress: string;
  /** A clinician's validated break-glass reason, if the request carried one. */
  readonly breakGlassReason: string | undefined;
  /** The HTTP request's lookup counts, shared by every operation of a batch. */
  readonly lookups?: LookupTally;
}

/** Builds a request's context, with loaders and an L2 view bound to the caller's tenant. */
export function createRequestContext(deps: ContextDeps, request: IncomingRequest): RequestContext {
  const { principal } = request;
  const tenantId = principal.tenantId;
  const cache = deps.l2.forRequest(tenantId);
  const pendingWrites: Array<Promise<void>> = [];
  const sources = new Map<string, CacheSource>();
  const audit = createAuditTrail({
    principal,
    requestId: request.requestId,
    clientAddress: request.clientAddress,
    breakGlassReason: request.breakGlassReason,
  });
  const warnings: GraphQLError[] = [];
  const decisions = new Map<string, Promise<unknown>>();
  const batchDeps = {
    db: deps.db,
    tenantId,
    l2: deps.l2,
    cache,
    entryPolicies: deps.entryPolicies,
    lookups: request.lookups,
    // The first layer to serve an entity is the one its audit event names.
    onSource: (type: string, id: string, source: 'l2' | 'db') => {
      const key = `${type}:${id}`;
      if (!sources.has(key)) sources.set(key, source);
    },
    // A failed cache write costs a future miss, never this response.
    defer: (write: () => Promise<void>) => {
      pendingWrites.push(
        write().catch((error: unknown) => {
          deps.logger.warn({ err: describeError(error) }, 'L2 write failed');
        }),
      );
    },
  };
  const loaders = createLoaders(batchDeps, {
    batching: deps.loaderOptions?.batching ?? true,
    readAhead: principal.role === 'clinician' || principal.role === 'patient',
  });
  // The invalidation each write of this request published, by entity, for its L2 bump.
  const published = new Map<string, number>();
  const invalidate = async (scopes: ReadonlyArray<GenerationScope>, seq: number) => {
    const delivered = await deps.l2.invalidate(tenantId, scopes, seq);
    // The rest of this request reads those generations again, so it sees its own write.
    cache.forget(scopes);
    if (!delivered) warnings.push(new CacheInvalidationDelayedError());
  };
  return {
    cacheStats: async () => (await deps.cacheStats?.(tenantId)) ?? null,
    requestId: request.requestId,
    principal,
    db: deps.db,
    loaders,
    cache,
    clientAddress: request.clientAddress,
    breakGlassReason: request.breakGlassReason,
    audit,
    decisions,
    sourceOf: (type, id) => sources.get(`${type}:${id}`) ?? 'l1',
    pendingWrites,
    warnings,
    outcome: { cachePolicy: undefined },
    searchPatients: (term, first, scope) =>
      cachedSearchPatients({ ...batchDeps, loaders }, term, first, scope),
    purge: async (scopes, seq) => {
      decisions.clear();
      loaders.invalidated();
      for (const loader of Object.values(loaders.entities)) loader.clearAll();
      for (const loader of Object.values(loaders.relations)) loader.clearAll();
      await invalidate(scopes, seq);
    },
    finishWrite: (entity, audit) => async (tx, row) => {
      await insertAuditRow(tx, audit(row));
      const seq = await publishInvalidation(tx, tenantId, invalidationScopes(entity, row));
      published.set(`${entity}:${row.id}`, seq);
    },
    afterWrite: async (entity, row) => {
      decisions.clear();
      refreshAfterWrite(loaders, entity, row);
      // What a mutation returns comes from its own statement, whatever was loaded before.
      sources.set(`${entity}:${row.id}`, 'db');
      const key = `${entity}:${row.id}`;
      const seq = published.get(key) ?? 0;
      published.delete(key);
      await invalidate(invalidationScopes(entity, row), seq);
    },
  };
}

/** Waits for every L2 write of the request, including those that writes started. */
export async function settleWrites(context: RequestContext): Promise<void> {
  while (context.pendingWrites.length > 0) {
    await Promise.all(context.pendingWrites.splice(0));
  }
}
