import { createHash, createHmac } from 'node:crypto';
import type { EntityName } from '../db/entities.js';

/** Where every key lives: a deployment prefix and a version derived from the schema. */
export interface KeySpace {
  readonly prefix: string;
  /** Changes whenever the SDL changes, so a new deploy never reads entries of an old shape. */
  readonly schemaVersion: string;
  /** HMAC key for search terms, which never appear in a key in clear. */
  readonly searchKey: Buffer;
}

/** A cache-generation scope: what one invalidation makes unreadable at once. */
export type GenerationScope =
  | { readonly kind: 'patient'; readonly patientId: string }
  | { readonly kind: 'reference' }
  | { readonly kind: 'search' }
  /** Every entry of the tenant: each stamp includes it. */
  | { readonly kind: 'tenant' };

export type CacheKeyTarget =
  | {
      readonly kind: 'entity';
      readonly tenantId: string;
      readonly type: EntityName;
      readonly id: string;
      /** A record's or study's patient, whose slot the entry lives in; required for those two. */
      readonly patientId?: string;
    }
  | {
      readonly kind: 'list';
      readonly tenantId: string;
      readonly owner: EntityName;
      readonly ownerId: string;
      readonly field: string;
    }
  | {
      readonly kind: 'search';
      readonly tenantId: string;
      /** Whose view the results are: `tenant`, `careTeam:<doctor id>` or `self:<patient id>`. */
      readonly view: string;
      readonly term: string;
      readonly first: number;
    }
  | { readonly kind: 'generation'; readonly tenantId: string; readonly scope: GenerationScope }
  | { readonly kind: 'epoch' }
  /** A registered automatic persisted query, by its SHA-256; shared by every tenant. */
  | { readonly kind: 'document'; readonly hash: string }
  /**
   * A tenant's hot set of one type (ids only, SPEC §5). Outside the schema version: usage is
   * the same whatever shape entries have, and it is what refills L2 after a deploy.
   */
  | { readonly kind: 'hotSet'; readonly tenantId: string; readonly type: string }
  /** The warmer's lease (one per deployment) and the report of its last run (per key space). */
  | { readonly kind: 'warmLease' }
  | { readonly kind: 'warmReport' };

/**
 * Builds every L2 key; nothing else concatenates one. Keys hold tenants, type names and ids
 * only: `{prefix}:{schemaVersion}:{slot}:{Type}:{id}`, with searches as an HMAC of the
 * normalised term and the process-wide epoch and documents under `{global}`.
 *
 * The slot is a Redis Cluster hash tag, the same on a single Redis: `{t1:p:<patient id>}` for
 * a patient's row, records, studies, lists and generation, so that one patient's entries and
 * the generation they are stamped with share a slot (one MULTI writes them, and a chart's
 * reads of them go to one node); `{t1}` for the tenant's reference data, searches and its
 * tenant, reference and search generations; `{global}` for the epoch and documents.
 *
 * @throws when a record's or study's key is asked for without its patient.
 */
export function buildCacheKey(space: KeySpace, target: CacheKeyTarget): string {
  const base = `${space.prefix}:${space.schemaVersion}`;
  switch (target.kind) {
    case 'entity':
      return `${base}:${entitySlot(target)}:${target.type}:${target.id}`;
    case 'list': {
      const slot =
        target.owner === 'Patient'
          ? patientSlot(target.tenantId, target.ownerId)
          : tenantSlot(target.tenantId);
      return `${base}:${slot}:${target.owner}:${target.ownerId}:${target.field}`;
    }
    case 'search':
      return `${base}:${tenantSlot(target.tenantId)}:search:${target.view}:${searchDigest(space, target.term)}:${target.first}`;
    case 'generation': {
      const { scope } = target;
      const slot =
        scope.kind === 'patient'
          ? patientSlot(target.tenantId, scope.patientId)
          : tenantSlot(target.tenantId);
      return `${base}:${slot}:gen:${scopeName(scope)}`;
    }
    case 'epoch':
      return `${base}:{global}:epoch`;
    case 'document':
      return `${base}:{global}:apq:${target.hash}`;
    case 'hotSet':
      return `${space.prefix}:${tenantSlot(target.tenantId)}:hot:${target.type}`;
    case 'warmLease':
      // One warmer per deployment, whatever schema versions its instances run: during a
      // rolling deploy two would each take their share of Postgres, and read PHI twice.
      return `${space.prefix}:{global}:warm:lease`;
    case 'warmReport':
      return `${base}:{global}:warm:report`;
  }
}

const tenantSlot = (tenantId: string) => `{${tenantId}}`;
const patientSlot = (tenantId: string, patientId: string) => `{${tenantId}:p:${patientId}}`;

function entitySlot(target: Extract<CacheKeyTarget, { kind: 'entity' }>): string {
  switch (target.type) {
    case 'Patient':
      return patientSlot(target.tenantId, target.id);
    case 'MedicalRecord':
    case 'Study':
      if (target.patientId === undefined) {
        throw new Error(`the key of a ${target.type} needs its patient`);
      }
      return patientSlot(target.tenantId, target.patientId);
    case 'Doctor':
    case 'Department':
      return tenantSlot(target.tenantId);
  }
}

/** A stable name for a scope, used in keys and in a request's generation map. */
export function scopeName(scope: GenerationScope): string {
  return scope.kind === 'patient' ? `patient:${scope.patientId}` : scope.kind;
}

/** Lower-cases, trims and collapses whitespace, so that equivalent searches share an entry. */
export function normalizeSearchTerm(term: string): string {
  return term.trim().toLowerCase().replace(/\s+/g, ' ');
}

function searchDigest(space: KeySpace, term: string): string {
  return createHmac('sha256', space.searchKey)
    .update(normalizeSearchTerm(term))
    .digest('base64url')
    .slice(0, 22);
}

/** The schema version of a set of type definitions: a short digest of the SDL. */
export function schemaVersionOf(typeDefs: string): string {
  return createHash('sha256').update(typeDefs).digest('hex').slice(0, 10);
}
