import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createStartupSteps, STARTUP_STEP_MESSAGE } from '../../src/startup/startupSteps.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('createStartupSteps', () => {
  it('logs a step once it has succeeded, with its whole milliseconds and its detail', async () => {
    const { lines, logger } = capture();
    const steps = createStartupSteps(logger);
    const value = await steps.time(
      'seed',
      () => Promise.resolve({ patients: 3 }),
      (summary) => summary,
    );
    expect(value).toEqual({ patients: 3 });
    steps.record('load', 12.6);
    expect(lines).toMatchObject([
      { msg: STARTUP_STEP_MESSAGE, step: 'seed', patients: 3 },
      { msg: STARTUP_STEP_MESSAGE, step: 'load', ms: 13 },
    ]);
    expect(Number.isInteger(lines[0]?.ms)).toBe(true);
  });

  it('logs nothing for a step that throws: the error says why', async () => {
    const { lines, logger } = capture();
    const steps = createStartupSteps(logger);
    await expect(
      steps.time('schema', () => {
        throw new Error('bad schema');
      }),
    ).rejects.toThrow('bad schema');
    expect(lines).toEqual([]);
  });

  it('logs the whole start as ready, from the start of the process', () => {
    const { lines, logger } = capture();
    createStartupSteps(logger).ready();
    expect(lines[0]).toMatchObject({ step: 'ready' });
    expect(lines[0]?.ms).toBeGreaterThan(0);
  });
});
