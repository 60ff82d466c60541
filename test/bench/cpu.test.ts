import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  cpuMsPerRequest,
  parseProcStatCpuSeconds,
  processTree,
  processTreeCpuSeconds,
} from '../../bench/cpu.js';

// A real line of /proc/<pid>/stat: utime 1234 and stime 56 ticks (fields 14 and 15).
const tail =
  'S 12154 12154 30898 0 -1 4194304 100 0 0 0 1234 56 7 8 20 0 11 0 346014 3133440 393 18446744073709551615';

describe('reading CPU time from /proc', () => {
  it('adds user and system ticks and converts them to seconds', () => {
    expect(parseProcStatCpuSeconds(`4242 (node) ${tail}`, 100)).toBeCloseTo(12.9);
    expect(parseProcStatCpuSeconds(`4242 (node) ${tail}`, 250)).toBeCloseTo(5.16);
  });

  it('counts fields from the last parenthesis of a command name with spaces and parens', () => {
    expect(parseProcStatCpuSeconds(`4242 (node (tsx) 1 2 3) ${tail}`, 100)).toBeCloseTo(12.9);
    expect(parseProcStatCpuSeconds(`4242 ()) ) ${tail}`, 100)).toBeCloseTo(12.9);
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseProcStatCpuSeconds('', 100)).toThrow(/no command name/);
    expect(() => parseProcStatCpuSeconds('4242 (node) S 1 2 3', 100)).toThrow(/utime/);
    expect(() => parseProcStatCpuSeconds(`4242 (node) S 1 2 3 4 5 6 7 8 9 10 x y`, 100)).toThrow(
      /utime/,
    );
  });

  it('reads a live process and answers undefined for one that does not exist', () => {
    if (process.platform === 'linux') {
      const seconds = processTreeCpuSeconds(process.pid);
      expect(seconds).toBeTypeOf('number');
      expect(seconds).toBeGreaterThanOrEqual(0);
    }
    expect(processTreeCpuSeconds(2 ** 31 - 1)).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')("counts a process's children in its CPU", async () => {
    // The child burns 0.3 s of its own CPU, however long a loaded machine takes to give it that,
    // says so, and idles.
    const child = spawn(process.execPath, [
      '-e',
      'while (process.cpuUsage().user < 300_000); console.log("burnt"); setInterval(() => {}, 1000);',
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => {
          resolve();
        });
        child.once('exit', () => {
          reject(new Error('the child exited'));
        });
      });
      const own = processTreeCpuSeconds(child.pid ?? 0) ?? 0;
      expect(own).toBeGreaterThan(0.2);
      expect(processTree(process.pid).has(child.pid ?? 0)).toBe(true);
      expect(processTreeCpuSeconds(process.pid)).toBeGreaterThanOrEqual(own);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('divides CPU by completed requests, and gives none for no requests or no sample', () => {
    expect(cpuMsPerRequest(3, 2000)).toBeCloseTo(1.5);
    expect(cpuMsPerRequest(3, 0)).toBeUndefined();
    expect(cpuMsPerRequest(undefined, 2000)).toBeUndefined();
    expect(cpuMsPerRequest(Number.NaN, 2000)).toBeUndefined();
  });
});
