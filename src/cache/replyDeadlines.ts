/** Thrown when Redis is judged not to have answered a round trip in time. */
export class ReplyTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`L2 did not answer within ${timeoutMs} ms of event-loop time`);
    this.name = 'ReplyTimeoutError';
  }
}

export interface ReplyDeadlineOptions {
  /** How long Redis may take, counted in time the event loop was free to read its reply. */
  readonly timeoutMs: number;
  /**
   * Wall-clock bound, whatever the loop is doing: a loop so busy that it never runs on time
   * would otherwise never judge a hung Redis. Twenty timeouts by default.
   */
  readonly hardTimeoutMs?: number;
  /** Milliseconds since some fixed point; `performance.now` unless a test drives the clock. */
  readonly now?: () => number;
}

/** One in-flight round trip. */
interface Waiter {
  /** Loop time (wall time minus measured lag) past which the reply is late. */
  readonly dueAt: number;
  /** Wall time past which the reply is late whatever the lag. */
  readonly hardAt: number;
  settled: boolean;
  readonly reject: (error: Error) => void;
}

/**
 * Deadlines for L2 round trips that judge Redis, not the process (SPEC §2.8).
 *
 * A reply that reached the socket but waited behind the process's own work is not a Redis
 * failure, so a round trip is failed only when both hold:
 * - it has been in flight for `timeoutMs` of *loop time*: wall time minus the lag this
 *   module's own timer measured (each time it fires late, the loop was busy for that long,
 *   and a reply could not have been read then);
 * - its reply is still missing after one more pass of the event loop's poll phase, which reads
 *   every reply already waiting in the socket (the verdict runs in `setImmediate`).
 *
 * One shared timer serves every round trip, ticking only while some are in flight: no timer,
 * AbortSignal or closure per command.
 */
export interface ReplyDeadlines {
  /**
   * @returns a promise that settles as `reply` does, or rejects with `ReplyTimeoutError` once
   * Redis is judged late. A reply that comes after that is dropped.
   */
  within<T>(reply: Promise<T>): Promise<T>;
  /** Round trips in flight: neither answered nor judged late. */
  readonly pending: number;
  /** Stops the timer; round trips in flight settle as their replies do. */
  close(): void;
}

export function createReplyDeadlines(options: ReplyDeadlineOptions): ReplyDeadlines {
  const { timeoutMs } = options;
  const hardTimeoutMs = options.hardTimeoutMs ?? timeoutMs * 20;
  const now = options.now ?? (() => performance.now());
  // Short enough that a block of the loop shows up as lag before the deadline does.
  const tickMs = Math.max(1, Math.min(10, Math.floor(timeoutMs / 5)));
  // Timers fire up to a millisecond late on an idle loop: that time was free, not lag.
  const toleranceMs = 1;

  // In start order, so also in deadline order; settled ones are dropped from the head.
  let queue: Waiter[] = [];
  let head = 0;
  let inFlight = 0;
  let lag = 0;
  let timer: NodeJS.Timeout | undefined;
  let armed = false;
  let expectedAt = 0;
  let verdictQueued = false;
  let judgedLoopTime = 0;
  let judgedWallTime = 0;
  let closed = false;

  const dropSettled = () => {
    while (head < queue.length && queue[head]?.settled === true) head++;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const arm = () => {
    if (armed || closed) return;
    armed = true;
    expectedAt = now() + tickMs;
    if (timer === undefined) {
      timer = setTimeout(onTick, tickMs);
      timer.unref();
    } else {
      timer.refresh();
    }
  };

  // Runs after the poll phase that followed the tick: replies that had arrived by the tick
  // have been read by now, so what is still missing was missing at the tick.
  const verdict = () => {
    verdictQueued = false;
    while (head < queue.length) {
      const waiter = queue[head];
      if (waiter === undefined) break;
      if (!waiter.settled) {
        if (waiter.dueAt > judgedLoopTime && waiter.hardAt > judgedWallTime) break;
        waiter.settled = true;
        inFlight--;
        waiter.reject(new ReplyTimeoutError(timeoutMs));
      }
      head++;
    }
    dropSettled();
  };

  function onTick() {
    armed = false;
    const wall = now();
    const late = wall - expectedAt;
    if (late > toleranceMs) lag += late - toleranceMs;
    dropSettled();
    if (head === queue.length) return;
    const first = queue[head];
    if (first !== undefined && !verdictQueued) {
      const loopTime = wall - lag;
      if (first.dueAt <= loopTime || first.hardAt <= wall) {
        judgedLoopTime = loopTime;
        judgedWallTime = wall;
        verdictQueued = true;
        setImmediate(verdict);
      }
    }
    arm();
  }

  return {
    within: <T>(reply: Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        const started = now();
        // No closure of its own: tsx names every function stored in a property, which costs
        // more than the rest of the round trip's bookkeeping.
        const waiter: Waiter = {
          dueAt: started - lag + timeoutMs,
          hardAt: started + hardTimeoutMs,
          settled: false,
          reject,
        };
        queue.push(waiter);
        inFlight++;
        arm();
        reply.then(
          (value) => {
            if (waiter.settled) return;
            waiter.settled = true;
            inFlight--;
            resolve(value);
          },
          (error: unknown) => {
            if (waiter.settled) return;
            waiter.settled = true;
            inFlight--;
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }),
    get pending() {
      return inFlight;
    },
    close: () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
