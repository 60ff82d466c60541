import type { HotMember, WarmingCommands } from './store.js';

/**
 * The warmer's commands in this process, for the in-process L2: the same semantics as the Redis
 * scripts (`redisWarming.ts`), with expiry checked on access. One process has one warmer, but
 * the lease still works as it does in Redis, so the warmer's code path is the same.
 */
export function createMemoryWarming(usedMemoryBytes: () => number): WarmingCommands {
  const sets = new Map<string, { scores: Map<string, number>; expiresAt: number }>();
  const leases = new Map<string, { owner: string; expiresAt: number }>();
  const live = (key: string) => {
    const set = sets.get(key);
    if (set !== undefined && set.expiresAt <= Date.now()) {
      sets.delete(key);
      return undefined;
    }
    return set;
  };
  const ranked = (scores: Map<string, number>): HotMember[] =>
    [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

  return {
    addToHotSet: (key, scores, maxSize, ttlMs) => {
      if (scores.length === 0) return Promise.resolve();
      const set = live(key) ?? { scores: new Map<string, number>(), expiresAt: 0 };
      for (const [member, score] of scores) {
        set.scores.set(member, (set.scores.get(member) ?? 0) + score);
      }
      if (set.scores.size > maxSize) set.scores = new Map(ranked(set.scores).slice(0, maxSize));
      set.expiresAt = Date.now() + ttlMs;
      sets.set(key, set);
      return Promise.resolve();
    },
    readHotSet: (key, limit, decay) => {
      const set = live(key);
      if (set === undefined) return Promise.resolve([]);
      if (decay < 1) {
        for (const [member, score] of set.scores) {
          const decayed = score * decay;
          if (decayed < 1) set.scores.delete(member);
          else set.scores.set(member, decayed);
        }
      }
      return Promise.resolve(ranked(set.scores).slice(0, limit));
    },
    hotSetSizes: (keys) => Promise.resolve(keys.map((key) => live(key)?.scores.size ?? 0)),
    holdLease: (key, owner, ttlMs) => {
      const lease = leases.get(key);
      const now = Date.now();
      if (lease !== undefined && lease.expiresAt > now && lease.owner !== owner) {
        return Promise.resolve(false);
      }
      leases.set(key, { owner, expiresAt: now + ttlMs });
      return Promise.resolve(true);
    },
    releaseLease: (key, owner) => {
      if (leases.get(key)?.owner === owner) leases.delete(key);
      return Promise.resolve();
    },
    usedMemoryBytes: () => Promise.resolve(usedMemoryBytes()),
  };
}
