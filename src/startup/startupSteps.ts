import type { Logger } from '../logger.js';

/**
 * The steps of a start, in the order `main.ts` takes them. `load` is the time Node spent
 * before the composition root ran (loading and transpiling the code), `ready` the whole start.
 */
export const STARTUP_STEPS = [
  'load',
  'config',
  'schema',
  'database',
  'pglite',
  'migrate',
  'seed',
  'snapshot',
  'l2',
  'feed',
  'server',
  'listen',
  'banner',
  'ready',
] as const;

export type StartupStep = (typeof STARTUP_STEPS)[number];

/** Logs each start-up step with its duration, so that a slow start says where it spent it. */
export interface StartupSteps {
  /**
   * Runs one step and logs `{ step, ms }` once it has succeeded, with what `detail` makes of
   * its result (counts, never data). A step that throws logs nothing: the error says why.
   */
  time<T>(step: StartupStep, work: () => Promise<T> | T, detail?: (value: T) => object): Promise<T>;
  /** Logs a step that ran before the logger existed. */
  record(step: StartupStep, ms: number, detail?: object): void;
  /** Logs `{ step: 'ready', ms }`: the time since the process started. */
  ready(): void;
}

/** The message of every step line; tests and log queries find the lines by it. */
export const STARTUP_STEP_MESSAGE = 'start-up step';

/**
 * Creates the step log. Durations are whole milliseconds of wall time, measured with
 * `performance.now()`, whose origin is the start of the process.
 */
export function createStartupSteps(logger: Logger): StartupSteps {
  const log = (step: StartupStep, ms: number, detail: object = {}): void => {
    logger.info({ step, ms: Math.round(ms), ...detail }, STARTUP_STEP_MESSAGE);
  };
  return {
    async time(step, work, detail) {
      const started = performance.now();
      const value = await work();
      log(step, performance.now() - started, detail?.(value));
      return value;
    },
    record: log,
    ready() {
      log('ready', performance.now());
    },
  };
}
