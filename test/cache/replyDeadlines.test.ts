import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReplyDeadlines, ReplyTimeoutError } from '../../src/cache/replyDeadlines.js';

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Settles to what the promise did, so far: 'pending', the value, or the error's name. */
function observe<T>(promise: Promise<T>) {
  const state: { outcome: T | string } = { outcome: 'pending' };
  promise.then(
    (value) => {
      state.outcome = value;
    },
    (error: unknown) => {
      state.outcome = (error as Error).name;
    },
  );
  return state;
}

/**
 * Fake timers drive when timers fire; the deadlines' clock runs ahead of them by `block(ms)`,
 * which is what a blocked event loop looks like from inside: timers fire late.
 */
function harness(options: { timeoutMs?: number; hardTimeoutMs?: number } = {}) {
  vi.useFakeTimers();
  const start = Date.now();
  let blocked = 0;
  const deadlines = createReplyDeadlines({
    timeoutMs: options.timeoutMs ?? 50,
    hardTimeoutMs: options.hardTimeoutMs,
    now: () => Date.now() - start + blocked,
  });
  return {
    deadlines,
    block: (ms: number) => {
      blocked += ms;
    },
  };
}

describe('createReplyDeadlines', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a round trip whose reply is still missing after the timeout of free loop time', async () => {
    const { deadlines } = harness();
    const reply = observe(deadlines.within(deferred<string>().promise));
    await vi.advanceTimersByTimeAsync(45);
    expect(reply.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(20);
    expect(reply.outcome).toBe('ReplyTimeoutError');
  });

  it('does not count time the event loop spent blocked as time Redis took', async () => {
    const { deadlines, block } = harness();
    const slow = deferred<string>();
    const reply = observe(deadlines.within(slow.promise));
    // The loop is stuck for 400 ms, far past the deadline, then runs freely for 30 ms.
    block(400);
    await vi.advanceTimersByTimeAsync(40);
    expect(reply.outcome).toBe('pending');
    slow.resolve('answered');
    await vi.advanceTimersByTimeAsync(0);
    expect(reply.outcome).toBe('answered');
  });

  it('still fails a missing reply once the loop has been free for the timeout after a block', async () => {
    const { deadlines, block } = harness();
    const reply = observe(deadlines.within(deferred<string>().promise));
    block(400);
    await vi.advanceTimersByTimeAsync(10);
    expect(reply.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(60);
    expect(reply.outcome).toBe('ReplyTimeoutError');
  });

  it('fails by the wall-clock bound when the loop is never on time', async () => {
    const { deadlines, block } = harness({ hardTimeoutMs: 1000 });
    const reply = observe(deadlines.within(deferred<string>().promise));
    // Each turn of the loop takes 400 ms: loop time creeps by a tick a turn, so only the
    // hard bound judges the reply.
    for (let i = 0; i < 2; i++) {
      block(400);
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(1);
    expect(reply.outcome).toBe('pending');
    block(400);
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(1);
    expect(reply.outcome).toBe('ReplyTimeoutError');
  });

  it('judges each round trip from its own start, and passes replies and errors through', async () => {
    const { deadlines } = harness();
    const first = observe(deadlines.within(deferred<string>().promise));
    await vi.advanceTimersByTimeAsync(30);
    const second = observe(deadlines.within(deferred<string>().promise));
    const answered = observe(deadlines.within(Promise.resolve('ok')));
    const refused = observe(deadlines.within(Promise.reject(new RangeError('refused'))));
    await vi.advanceTimersByTimeAsync(30);
    expect(first.outcome).toBe('ReplyTimeoutError');
    expect(second.outcome).toBe('pending');
    expect(answered.outcome).toBe('ok');
    expect(refused.outcome).toBe('RangeError');
    await vi.advanceTimersByTimeAsync(30);
    expect(second.outcome).toBe('ReplyTimeoutError');
  });

  it('drops a reply that comes after the verdict, and a late rejection is not unhandled', async () => {
    const { deadlines } = harness();
    const late = deferred<string>();
    const lateError = deferred<string>();
    const reply = observe(deadlines.within(late.promise));
    const failing = observe(deadlines.within(lateError.promise));
    await vi.advanceTimersByTimeAsync(70);
    late.resolve('too late');
    lateError.reject(new Error('too late as well'));
    await vi.advanceTimersByTimeAsync(10);
    expect(reply.outcome).toBe('ReplyTimeoutError');
    expect(failing.outcome).toBe('ReplyTimeoutError');
  });

  it('keeps no timer running once nothing is in flight', async () => {
    const { deadlines } = harness();
    await deadlines.within(Promise.resolve(1));
    await vi.advanceTimersByTimeAsync(20);
    expect(vi.getTimerCount()).toBe(0);
    // Thousands of round trips share the one timer.
    const replies = Array.from({ length: 5000 }, (_, i) => deadlines.within(Promise.resolve(i)));
    expect(vi.getTimerCount()).toBe(1);
    await Promise.all(replies);
    expect(deadlines.pending).toBe(0);
  });
});

describe('createReplyDeadlines on a real event loop', () => {
  let echo: ChildProcess | undefined;
  let socket: Socket | undefined;
  afterEach(() => {
    socket?.destroy();
    echo?.kill();
  });

  it('does not fail a reply that reached the socket while the loop was blocked past every bound', async () => {
    // An echo server in a process of its own, answering at once like a healthy Redis while
    // this process is busy.
    echo = spawn(
      process.execPath,
      [
        '-e',
        "const s = require('net').createServer((p) => { p.on('error', () => {}); p.pipe(p); });" +
          "s.listen(0, '127.0.0.1', () => console.log(s.address().port));",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(echo.stdout ?? process.stdin, 'data')) as [Buffer];
    const client = connect(Number(String(line).trim()), '127.0.0.1');
    client.on('error', () => undefined);
    socket = client;
    await new Promise((resolve) => client.once('connect', resolve));
    const deadlines = createReplyDeadlines({ timeoutMs: 20, hardTimeoutMs: 60 });

    const replies = [1, 2, 3].map(() => {
      const reply = new Promise<string>((resolve) =>
        client.once('data', (d) => {
          resolve(String(d));
        }),
      );
      return deadlines.within(reply);
    });
    client.write('PING');
    // The process is busy for 300 ms: the reply arrives meanwhile, and waits in the socket.
    const until = performance.now() + 300;
    while (performance.now() < until);
    const outcomes = await Promise.allSettled(replies);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(
      outcomes.some((o) => o.status === 'rejected' && o.reason instanceof ReplyTimeoutError),
    ).toBe(false);
    deadlines.close();
  });
});
