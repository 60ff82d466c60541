import { randomUUID } from 'node:crypto';
import { buildCacheKey } from '../cache/cacheKey.js';
import { LONG_CONTROL_POLICY } from '../cache/controlValues.js';
import type { EntryPolicies } from '../cache/entryPolicies.js';
import type { L2Cache } from '../cache/l2Cache.js';
import { writeToL2 } from '../cache/writeToL2.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/client.js';
import type { Logger } from '../logger.js';
import { describeError } from '../logger.js';
import { flushUsage } from './hotSet.js';
import { createStatementBudget } from './statementBudget.js';
import type { WarmMetrics } from './warmMetrics.js';
import { runWarmPass, type WarmPassDeps, type WarmReport } from './warmPass.js';

/** How long a hot set's scores take to halve, as passes read them. */
const HALF_LIFE_MS = 60_000;

export interface Warmer {
  /** Whether this process holds the lease now. */
  readonly holding: boolean;
  /** The last pass of whichever instance held the lease, from L2 (counts only). */
  lastReport(): Promise<WarmReport | undefined>;
  close(): Promise<void>;
}

export interface WarmerDeps {
  readonly config: Config['warming'];
  readonly database: DatabaseHandle;
  readonly l2: L2Cache;
  readonly entryPolicies: EntryPolicies;
  readonly logger: Logger;
  readonly metrics: WarmMetrics;
}

/** The pass's settings from the configuration, shared by the warmer and `npm run cache:warm`. */
export function passSettings(deps: WarmerDeps): Omit<WarmPassDeps, 'proceed' | 'onProgress'> {
  const { config } = deps;
  return {
    database: deps.database,
    l2: deps.l2,
    entryPolicies: deps.entryPolicies,
    logger: deps.logger,
    metrics: deps.metrics,
    budget: createStatementBudget(config.maxQps),
    phiTenants: config.phiTenants,
    topK: config.topK,
    // Two passes ahead: an entry due to expire before the pass after next is written again.
    refreshAheadMs: config.intervalMs * 2,
    decay: 0.5 ** (config.intervalMs / HALF_LIFE_MS),
    withheld: new Map(),
    listed: new Map(),
  };
}

/**
 * Warming from usage (SPEC §5). Every instance merges its usage into the shared hot sets every
 * `flushMs`; one instance at a time, the holder of a lease in L2, runs a pass every
 * `intervalMs`, the first as soon as it holds the lease (so reference data is in L2 within
 * seconds of a start, before any request). The lease lasts `leaseMs` unrenewed, and every
 * instance asks for it three times a lease: when its holder dies, another takes over within a
 * lease period. A pass stops between batches when the lease is lost.
 */
export function startWarmer(deps: WarmerDeps): Warmer {
  const { config, l2, logger, metrics } = deps;
  const owner = randomUUID();
  const leaseKey = buildCacheKey(l2.space, { kind: 'warmLease' });
  const reportKey = buildCacheKey(l2.space, { kind: 'warmReport' });
  const settings = passSettings(deps);
  const warming = l2.store.warming;
  let holding = false;
  let closed = false;
  let pass: Promise<void> | undefined;
  let lastPassAt = -Infinity;
  const epochKey = buildCacheKey(l2.space, { kind: 'epoch' });
  // The epoch as the last tick read it (sealed; only compared).
  let epochAtPass: string | undefined;

  const runPass = async () => {
    lastPassAt = performance.now();
    const report = await runWarmPass({
      ...settings,
      proceed: () => holding && !closed,
      stillHolding: async () => {
        const held = (await warming?.holdLease(leaseKey, owner, config.leaseMs)) === true;
        if (!held) holding = false;
        return held && !closed;
      },
    });
    for (const [key, until] of settings.withheld) {
      if (until <= Date.now()) settings.withheld.delete(key);
    }
    if (report.result !== 'skipped') {
      logger.debug({ warm: report }, 'warming pass');
      await writeToL2(l2.store, l2.sealer, [
        { key: reportKey, plaintext: JSON.stringify(report), policy: LONG_CONTROL_POLICY },
      ]);
    }
  };

  const tick = async () => {
    if (closed || warming === undefined) return;
    const held = (await warming.holdLease(leaseKey, owner, config.leaseMs)) === true;
    if (held !== holding) {
      holding = held;
      metrics.leaseHeld.set(held ? 1 : 0);
      logger.info({ holding: held }, held ? 'holding the warmer lease' : 'lost the warmer lease');
    }
    // An epoch bump (a logical flush, after an outage or by hand) empties L2 at once: the
    // holder notices it within a tick, and refills without waiting out the interval.
    let bumped = false;
    if (holding && pass === undefined) {
      const [epoch] = (await l2.store.getMany([epochKey])) ?? [];
      bumped = epoch !== epochAtPass;
      epochAtPass = epoch;
    }
    if (
      holding &&
      pass === undefined &&
      (bumped || performance.now() - lastPassAt >= config.intervalMs)
    ) {
      pass = runPass()
        .catch((error: unknown) => {
          logger.warn({ err: describeError(error) }, 'warming pass failed');
        })
        .finally(() => {
          pass = undefined;
        });
    }
  };
  const tickEvery = Math.max(
    250,
    Math.min(1_000, config.intervalMs, Math.floor(config.leaseMs / 3)),
  );
  let ticking: Promise<void> = Promise.resolve();
  const leaseTimer = setInterval(() => {
    ticking = ticking.then(tick, tick);
  }, tickEvery);
  leaseTimer.unref();
  // The first pass at once: the start of a process is when L2 is coldest.
  ticking = ticking.then(tick, tick);

  const usage = l2.usage;
  const flushTimer =
    usage === undefined || warming === undefined
      ? undefined
      : setInterval(() => {
          void flushUsage(usage, warming, l2.space, config.topK);
        }, config.flushMs);
  flushTimer?.unref();

  return {
    get holding() {
      return holding;
    },
    lastReport: async () => {
      const [sealed] = (await l2.store.getMany([reportKey])) ?? [];
      const plaintext = sealed === undefined ? undefined : l2.sealer.open(reportKey, sealed);
      if (plaintext === undefined) return undefined;
      try {
        return JSON.parse(plaintext) as WarmReport;
      } catch {
        return undefined;
      }
    },
    close: async () => {
      closed = true;
      clearInterval(leaseTimer);
      if (flushTimer !== undefined) clearInterval(flushTimer);
      await ticking;
      await pass;
      if (holding) await warming?.releaseLease(leaseKey, owner);
      holding = false;
      metrics.leaseHeld.set(0);
    },
  };
}
