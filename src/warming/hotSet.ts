import { buildCacheKey, type KeySpace } from '../cache/cacheKey.js';
import type { GuardedWarming } from '../cache/guardedStore.js';
import { PHI_MAX_AGE_CAP_SECONDS } from '../policy/cachePolicy.js';
import type { UsageTracker } from './usageTracker.js';

/** A hot set names patients, so it lives no longer than PHI (SPEC §2.11). */
export const HOT_SET_TTL_MS = PHI_MAX_AGE_CAP_SECONDS * 1000;

/** The types a hot set is kept for: what the warmer loads by id or by owner. */
export const PHI_HOT_TYPES = [
  'Patient',
  'Patient.records',
  'Patient.studies',
  'Patient.careTeam',
  'MedicalRecord',
  'Study',
] as const;
export const REFERENCE_HOT_TYPES = ['Doctor', 'Department', 'Department.doctors'] as const;
export const HOT_TYPES: ReadonlyArray<string> = [...PHI_HOT_TYPES, ...REFERENCE_HOT_TYPES];

export function hotSetKey(space: KeySpace, tenantId: string, type: string): string {
  return buildCacheKey(space, { kind: 'hotSet', tenantId, type });
}

/**
 * A hot set's member: the id, after its patient's id for a record or study (`<patient>/<id>`),
 * so that the warmer knows which generation stamps it before it reads Postgres.
 */
export function hotMember(id: string, owner: string | undefined): string {
  return owner === undefined || owner === '' ? id : `${owner}/${id}`;
}

export function parseHotMember(member: string): { id: string; owner: string | undefined } {
  const slash = member.indexOf('/');
  return slash < 0
    ? { id: member, owner: undefined }
    : { id: member.slice(slash + 1), owner: member.slice(0, slash) };
}

/**
 * Merges this process's top-k into the shared hot sets: one command per tenant and type, each
 * adding what the ids' estimates grew by since the last flush (so a score grows only with new
 * lookups, and the warmer's decay makes it fade once they stop), and keeping the set
 * `HOT_SET_TTL_MS` from now.
 *
 * @returns false when L2 refused some of it (that growth is not sent again).
 */
export async function flushUsage(
  usage: UsageTracker,
  warming: GuardedWarming,
  space: KeySpace,
  topK: number,
): Promise<boolean> {
  const results = await Promise.all(
    usage.drain().map(({ tenantId, type, hot }) =>
      warming.addToHotSet(
        hotSetKey(space, tenantId, type),
        hot.map((h) => [hotMember(h.id, h.owner), h.count] as const),
        topK,
        HOT_SET_TTL_MS,
      ),
    ),
  );
  return results.every((result) => result !== undefined);
}
