import { describe, expect, it } from 'vitest';
import { subsystemOf, summarizeProfile } from '../../bench/profileSummary.js';
import { cpuSecondsBetween } from '../../bench/cpu.js';

describe('the profile summary', () => {
  it('names a frame by package, by own module folder, or as V8 or Node', () => {
    const root = '/work/app';
    expect(
      subsystemOf('file:///work/app/node_modules/graphql/execution/execute.js', 'f', root),
    ).toBe('graphql');
    expect(
      subsystemOf('file:///work/app/node_modules/@apollo/server/dist/esm/x.js', 'f', root),
    ).toBe('@apollo/server');
    expect(subsystemOf('file:///work/app/src/cache/sealer.ts', 'open', root)).toBe('src/cache');
    expect(subsystemOf('node:events', 'emit', root)).toBe('(node internals)');
    expect(subsystemOf('', '(garbage collector)', root)).toBe('(garbage collector)');
    expect(subsystemOf('', 'writev', root)).toBe('(native)');
  });

  it('sums self time over the window only, leaving idle time out', () => {
    const frame = (id: number, url: string, functionName = 'f') => ({
      id,
      callFrame: { url, functionName },
    });
    const profile = {
      nodes: [frame(1, 'file:///r/src/a/x.ts'), frame(2, '', '(idle)'), frame(3, 'node:fs')],
      samples: [3, 1, 1, 2, 3],
      timeDeltas: [10, 10, 10, 10, 10],
      startTime: 0,
      endTime: 50,
    };
    // The window [15, 40]: the samples at 20, 30 and 40 (idle).
    expect(summarizeProfile(profile, '/r', { skipEndMicros: 10, lengthMicros: 25 })).toEqual([
      { name: 'src/a', percent: 100 },
    ]);
  });

  it("charges a process's CPU from zero when it started within the window", () => {
    expect(
      cpuSecondsBetween(
        new Map([[1, 5]]),
        new Map([
          [1, 7],
          [2, 1],
        ]),
      ),
    ).toBe(3);
  });
});
