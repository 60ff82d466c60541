import type { ServerMode } from './servers/serve.js';

/**
 * The stream is cut in two halves. Runs that start from an empty cache play the first (A);
 * every other measured run plays the second (B), after the first has filled its cache, so a
 * warm run is never a replay of the requests that warmed it.
 */
export type Segment = 'A' | 'B';

export interface PhasePlan {
  /** The name the report gives the run; warm-ups have none and are not reported. */
  readonly id: string | undefined;
  readonly segment: Segment;
  readonly seconds: number;
}

export interface ModePlan {
  readonly mode: ServerMode;
  /** Empties the bench's Redis database before the server starts. */
  readonly flushRedis: boolean;
  readonly phases: ReadonlyArray<PhasePlan>;
}

/** Every mode, side by side, in one run: the order the report lists them in. */
export function planModes(seconds: number, warmUpSeconds: number): ModePlan[] {
  const warmUp = (s: number): PhasePlan => ({ id: undefined, segment: 'A', seconds: s });
  const measure = (id: string, segment: Segment = 'B'): PhasePlan => ({ id, segment, seconds });
  // Modes without a shared cache get a shorter warm-up: it only warms the JIT and the pools.
  const jit = Math.max(1, Math.round(warmUpSeconds / 2));
  return [
    { mode: 'n1', flushRedis: false, phases: [warmUp(jit), measure('n1')] },
    { mode: 'l1', flushRedis: false, phases: [warmUp(jit), measure('l1')] },
    {
      mode: 'caregraph',
      flushRedis: true,
      phases: [measure('caregraph-cold', 'A'), measure('caregraph-warm')],
    },
    {
      mode: 'caregraph-workers',
      flushRedis: true,
      // As long as the one-worker cold run before its warm run: each worker's JIT and near
      // cache, and L2, get what that one process got, so the ratio compares warm with warm.
      phases: [warmUp(seconds), measure('caregraph-workers-warm')],
    },
    {
      mode: 'caregraph-plaintext',
      flushRedis: true,
      phases: [warmUp(warmUpSeconds), measure('caregraph-plaintext')],
    },
    {
      mode: 'caregraph-no-audit',
      flushRedis: true,
      phases: [warmUp(warmUpSeconds), measure('caregraph-no-audit')],
    },
    { mode: 'peer', flushRedis: true, phases: [measure('peer-cold', 'A'), measure('peer-warm')] },
    { mode: 'ceiling', flushRedis: false, phases: [warmUp(jit), measure('ceiling')] },
  ];
}
