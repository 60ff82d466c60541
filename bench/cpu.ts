/**
 * CPU time of a process, read from Linux's /proc, so that the bench can charge a server's CPU to
 * the requests it served without asking the server (a server that reported its own CPU over an
 * endpoint would spend CPU to say so).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ, the unit of /proc's CPU times; Linux fixes it at 100 on every common platform. */
const DEFAULT_TICKS_PER_SECOND = 100;

/**
 * User plus system CPU seconds of a process, from one line of `/proc/<pid>/stat`.
 *
 * The second field, the command name, is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last `)`.
 *
 * @returns seconds, summed over all the process's threads.
 * @throws Error when the line is not a stat line.
 */
export function parseProcStatCpuSeconds(line: string, ticksPerSecond: number): number {
  const end = line.lastIndexOf(')');
  if (end < 0) throw new Error('not a /proc stat line: no command name');
  // After the name: state (field 3), ppid, … utime is field 14 and stime field 15.
  const fields = line
    .slice(end + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields[12] === undefined) {
    throw new Error('not a /proc stat line: no utime/stime');
  }
  return (utime + stime) / ticksPerSecond;
}

let ticks: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), read once. */
export function clockTicksPerSecond(): number {
  if (ticks !== undefined) return ticks;
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isInteger(value) && value > 0 ? value : DEFAULT_TICKS_PER_SECOND;
  } catch {
    ticks = DEFAULT_TICKS_PER_SECOND;
  }
  return ticks;
}

/**
 * CPU seconds a process has used so far, all threads, user and system.
 *
 * @returns undefined when /proc cannot be read (not Linux, or the process has exited).
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return parseProcStatCpuSeconds(line, clockTicksPerSecond());
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds per request over a window.
 *
 * @returns undefined when either sample is missing or no request completed.
 */
export function cpuMsPerRequest(
  cpuSeconds: number | undefined,
  requests: number,
): number | undefined {
  if (cpuSeconds === undefined || !Number.isFinite(cpuSeconds) || requests <= 0) return undefined;
  return (cpuSeconds * 1000) / requests;
}

/**
 * CPU seconds so far of every process whose command name is one of `names`, by pid: the
 * database's backends and Redis, which share this machine's cores with the server under test.
 * Processes other users own are included; /proc's stat files are world-readable.
 */
export function commandCpuSeconds(names: ReadonlySet<string>): Map<number, number> {
  const result = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return result;
  }
  const hz = clockTicksPerSecond();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let line: string;
    try {
      line = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited since the listing
    }
    const name = line.slice(line.indexOf('(') + 1, line.lastIndexOf(')'));
    if (!names.has(name)) continue;
    try {
      result.set(Number(entry), parseProcStatCpuSeconds(line, hz));
    } catch {
      continue;
    }
  }
  return result;
}

/**
 * CPU seconds the processes of `after` spent since `before`. A process that started in the
 * window counts from zero; one that exited in it is not seen, so the figure is a lower bound
 * (the servers under test keep their database connections open, so few come and go).
 */
export function cpuSecondsBetween(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}
