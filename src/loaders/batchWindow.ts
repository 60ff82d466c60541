/**
 * Coalesces one request's DataLoader batches into waves. A batch is dispatched only once no
 * other batch of the request is in flight, so the loads that one resolved batch triggers
 * (record authors and study doctors, say) join a single batch per loader rather than
 * splitting by the order in which sibling statements happen to return. That makes the number
 * of SQL statements (and cache round trips) per query a property of its shape, not of timing.
 */
export interface BatchWindow {
  /** DataLoader's `batchScheduleFn`. */
  readonly schedule: (dispatch: () => void) => void;
  /** Wraps one batch's work, so that no wave is dispatched while it runs. */
  track<T>(work: () => Promise<T>): Promise<T>;
}

export function createBatchWindow(): BatchWindow {
  let inFlight = 0;
  let queued: Array<() => void> = [];
  let flushScheduled = false;

  const flush = (): void => {
    flushScheduled = false;
    if (inFlight > 0) return;
    const dispatches = queued;
    queued = [];
    for (const dispatch of dispatches) dispatch();
  };

  const maybeFlush = (): void => {
    if (inFlight > 0 || queued.length === 0 || flushScheduled) return;
    flushScheduled = true;
    // setImmediate runs after the promise jobs of the batch that just finished, so every load
    // its results trigger is queued before the next wave leaves.
    setImmediate(flush);
  };

  return {
    schedule: (dispatch) => {
      queued.push(dispatch);
      maybeFlush();
    },
    track: async (work) => {
      inFlight++;
      try {
        return await work();
      } finally {
        inFlight--;
        maybeFlush();
      }
    },
  };
}
