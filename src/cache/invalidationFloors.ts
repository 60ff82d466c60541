import { LRUCache } from 'lru-cache';
import { PHI_MAX_AGE_CAP_SECONDS } from '../policy/cachePolicy.js';

/**
 * How long a short-lived scope's floor is kept: twice the PHI cap. Every entry stamped under a
 * generation older than the floor was written before the invalidation, or within the moment it
 * took to reach this process, and its sealed TTL (300 s at most) has passed by then.
 */
export const SHORT_FLOOR_TTL_MS = 2 * PHI_MAX_AGE_CAP_SECONDS * 1000;
const SHORT_FLOORS_MAX = 500_000;
// Two per tenant: far more than any deployment has tenants, and a bound on the memory of
// invalidations of tenants that do not exist.
const LONG_FLOORS_MAX = 100_000;

/**
 * The latest committed invalidation of each scope this process has heard of, by the key of the
 * scope's generation: its floor. A generation read from L2 whose token carries a lower
 * sequence number (`counterOfToken`) was made before that write. Either the write's own bump
 * never landed (Redis refused it, froze, or it is still on its way), or someone replayed an old
 * value. Either way it is not served from, and it is replaced with a token at the floor.
 *
 * A patient's and the searches' floors are forgotten after `SHORT_FLOOR_TTL_MS` (their
 * entries live 300 s at most); a tenant's reference and whole-tenant floors are kept (their
 * entries live for hours, and there are two per tenant).
 */
export interface InvalidationFloors {
  /** Raises a scope's floor; a lower or equal number changes nothing. @returns whether it rose. */
  raise(generationKey: string, seq: number, longLived: boolean): boolean;
  /** The floor of a scope; 0 when this process knows of no invalidation of it. */
  floorOf(generationKey: string): number;
}

export function createInvalidationFloors(): InvalidationFloors {
  // Least recently raised goes first: a tenant's floors are raised by its every purge and read
  // by its every request, so only tenants that see neither are ever dropped.
  const long = new LRUCache<string, number>({ max: LONG_FLOORS_MAX });
  const short = new LRUCache<string, number>({ max: SHORT_FLOORS_MAX, ttl: SHORT_FLOOR_TTL_MS });
  return {
    raise: (key, seq, longLived) => {
      const floors = longLived ? long : short;
      if ((floors.get(key) ?? 0) >= seq) return false;
      floors.set(key, seq);
      return true;
    },
    floorOf: (key) => long.get(key) ?? short.get(key) ?? 0,
  };
}
