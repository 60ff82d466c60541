import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createClusterMetricsHub } from './clusterMetrics.js';

/** A worker that lived this long before it died is restarted at once. */
const STABLE_AFTER_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a worker, by how many in a row died soon after they
 * started: a worker that cannot start (Postgres refuses it) is retried ever more slowly instead
 * of forked in a tight loop.
 */
export function restartDelayMs(quickDeaths: number): number {
  if (quickDeaths === 0) return 0;
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (quickDeaths - 1));
}

/**
 * The primary of WEB_CONCURRENCY workers. It forks `config.webConcurrency` copies of this
 * entry point, which share the port through node:cluster, replaces a worker that dies, and on
 * SIGTERM or SIGINT has every worker drain as a single process would. It opens no database
 * or Redis: only the workers serve.
 *
 * The process exits 0 once every worker has stopped cleanly, 1 when one failed or
 * `config.shutdownTimeoutMs` passed first.
 */
export function runPrimary(config: Config, logger: Logger): void {
  // The same loader flags (`--import tsx`) and entry point, so a worker starts as this did.
  cluster.setupPrimary({ execArgv: process.execArgv });
  const metrics = createClusterMetricsHub();
  /** Per slot: how many of its workers in a row died within STABLE_AFTER_MS. */
  const quickDeaths: number[] = [];
  const restarts = new Set<NodeJS.Timeout>();
  // Kept here, not read from cluster.workers, which may still hold a worker that has exited.
  const live = new Set<Worker>();
  let stopping = false;
  let failed = false;

  const fork = (slot: number): void => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    live.add(worker);
    metrics.add(worker);
    worker.once('online', () => {
      logger.info({ worker: worker.id, pid: worker.process.pid, slot }, 'worker started');
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      live.delete(worker);
      // A worker told to stop before it had set up its drain dies of the signal itself, with
      // nothing in flight.
      const clean = code === 0 || (stopping && signal === 'SIGTERM');
      if (stopping) {
        if (!clean) failed = true;
        const level = clean ? 'info' : 'error';
        logger[level](
          { worker: worker.id, pid: worker.process.pid, code, signal },
          'worker stopped',
        );
        exitWhenAllStopped();
        return;
      }
      const quick = Date.now() - startedAt < STABLE_AFTER_MS;
      const deaths = quick ? (quickDeaths[slot] ?? 0) + 1 : 0;
      quickDeaths[slot] = deaths;
      const delayMs = restartDelayMs(deaths);
      logger.error(
        { worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: delayMs },
        'worker exited unexpectedly',
      );
      const timer = setTimeout(() => {
        restarts.delete(timer);
        fork(slot);
      }, delayMs);
      restarts.add(timer);
    });
  };

  const exitWhenAllStopped = (): void => {
    if (live.size > 0) return;
    logger.info('stopped');
    process.exit(failed ? 1 : 0);
  };

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    logger.info({ signal }, 'draining every worker');
    // A worker that does not drain in time exits 1 by itself; this is for one that hangs.
    setTimeout(() => {
      logger.error('workers still running after SHUTDOWN_TIMEOUT_MS');
      for (const worker of live) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    // Each worker runs the single process's drain on SIGTERM.
    for (const worker of live) worker.process.kill('SIGTERM');
    exitWhenAllStopped();
  };

  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
  logger.info({ workers: config.webConcurrency, pid: process.pid }, 'primary started');
  for (let slot = 0; slot < config.webConcurrency; slot++) fork(slot);
}
