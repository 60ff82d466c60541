import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cacheMetrics.js';
import { createGuardedStore, type GuardedStore } from '../../src/cache/guardedStore.js';
import type { CacheStore } from '../../src/cache/store.js';
import { metricValue } from '../support/metricValue.js';

type Behaviour = 'answer' | 'fail' | 'hang';

/** A store whose every method answers, fails at once, or never answers, as the test says. */
function scriptedStore() {
  const script: { next: Behaviour; ping: Behaviour[] } = { next: 'answer', ping: [] };
  const calls = { commands: 0, pings: 0 };
  const act = <T>(behaviour: Behaviour, value: T): Promise<T> => {
    if (behaviour === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    if (behaviour === 'hang') return new Promise<T>(() => undefined);
    return Promise.resolve(value);
  };
  const store: CacheStore = {
    kind: 'redis',
    getMany: (keys) => {
      calls.commands++;
      return act(
        script.next,
        keys.map(() => 'v'),
      );
    },
    setMany: () => {
      calls.commands++;
      return act(script.next, undefined);
    },
    setManyIfAbsent: (entries) => {
      calls.commands++;
      return act(
        script.next,
        entries.map(() => true),
      );
    },
    ping: () => {
      calls.pings++;
      return act(script.ping.shift() ?? script.next, undefined);
    },
    close: () => Promise.resolve(),
  };
  return { store, script, calls };
}

describe('createGuardedStore', () => {
  let guarded: GuardedStore | undefined;
  afterEach(async () => {
    await guarded?.close();
    vi.useRealTimers();
  });

  function setup() {
    vi.useFakeTimers();
    const registry = new Registry();
    const scripted = scriptedStore();
    guarded = createGuardedStore(
      scripted.store,
      { commandTimeoutMs: 50, resetTimeoutMs: 300 },
      createCacheMetrics(registry),
    );
    const metric = (name: string, labels?: Record<string, string>) =>
      metricValue(registry, name, labels);
    return { guarded, ...scripted, metric };
  }

  it('counts round trips, durations and errors by operation under their public names', async () => {
    const { guarded, script, metric } = setup();
    expect(await guarded.getMany(['a', 'b'])).toEqual(['v', 'v']);
    script.next = 'fail';
    expect(await guarded.setMany([{ key: 'a', value: 'v', ttlMs: 1000 }])).toBe(false);
    script.next = 'hang';
    const hung = guarded.setManyIfAbsent([{ key: 'a', value: 'v', ttlMs: 1000 }]);
    await vi.advanceTimersByTimeAsync(70);
    expect(await hung).toBeUndefined();

    expect(await metric('caregraph_l2_round_trips_total', { op: 'get' })).toBe(1);
    expect(await metric('caregraph_l2_round_trips_total', { op: 'set' })).toBe(1);
    expect(await metric('caregraph_l2_round_trips_total', { op: 'setIfAbsent' })).toBe(1);
    expect(await metric('caregraph_redis_errors_total', { op: 'get' })).toBe(0);
    expect(await metric('caregraph_redis_errors_total', { op: 'set' })).toBe(1);
    expect(await metric('caregraph_redis_errors_total', { op: 'setIfAbsent' })).toBe(1);
    // Only round trips that answered are timed.
    expect(await metric('caregraph_l2_duration_seconds', { op: 'get', le: '+Inf' })).toBe(1);
    expect(await metric('caregraph_l2_duration_seconds', { op: 'set', le: '+Inf' })).toBe(0);
  });

  it('opens when more than half of at least three round trips fail, then refuses without counting', async () => {
    const { guarded, script, calls, metric } = setup();
    await guarded.getMany(['a']);
    await guarded.getMany(['a']);
    script.next = 'fail';
    await guarded.getMany(['a']);
    await guarded.getMany(['a']);
    // Two of four is not more than half.
    expect(guarded.open).toBe(false);
    await guarded.getMany(['a']);
    expect(guarded.open).toBe(true);
    expect(await metric('caregraph_cache_breaker_state')).toBe(2);

    const commands = calls.commands;
    script.next = 'answer';
    expect(await guarded.getMany(['a'])).toBeUndefined();
    expect(await guarded.setMany([{ key: 'a', value: 'v', ttlMs: 1000 }])).toBe(false);
    expect(await guarded.ping()).toBe(false);
    expect(calls.commands).toBe(commands);
    expect(await metric('caregraph_l2_round_trips_total')).toBe(5);
    expect(await metric('caregraph_redis_errors_total')).toBe(3);
  });

  it('probes by itself after the reset interval and closes once L2 answers, with no traffic', async () => {
    const { guarded, script, calls, metric } = setup();
    script.next = 'fail';
    for (let i = 0; i < 3; i++) await guarded.getMany(['a']);
    expect(guarded.open).toBe(true);
    script.next = 'answer';
    await vi.advanceTimersByTimeAsync(299);
    expect(calls.pings).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.pings).toBe(1);
    expect(guarded.open).toBe(false);
    expect(await metric('caregraph_cache_breaker_state')).toBe(0);
    expect(await metric('caregraph_l2_round_trips_total', { op: 'ping' })).toBe(1);
    expect(await guarded.getMany(['a'])).toEqual(['v']);
  });

  it('opens again when its probe fails or hangs, and probes again after each reset', async () => {
    const { guarded, script, calls, metric } = setup();
    script.next = 'fail';
    for (let i = 0; i < 3; i++) await guarded.getMany(['a']);
    script.next = 'answer';
    script.ping = ['fail', 'hang'];
    const states: number[] = [];
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(300);
      // A hung probe is judged by the timeout like any other round trip.
      await vi.advanceTimersByTimeAsync(70);
      states.push(await metric('caregraph_cache_breaker_state'));
    }
    expect(calls.pings).toBe(3);
    expect(states).toEqual([2, 2, 0]);
    expect(await metric('caregraph_redis_errors_total', { op: 'ping' })).toBe(2);
  });
});
