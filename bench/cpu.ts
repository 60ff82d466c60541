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
  for (const stat of readProcessStats()) {
    if (names.has(stat.name)) result.set(stat.pid, stat.cpuSeconds);
  }
  return result;
}

/**
 * CPU seconds so far of a process and all its descendants: a primary and its WEB_CONCURRENCY
 * workers are one server under test. A child that exited is not counted (Linux adds a reaped
 * child's time to its parent's `cutime`, not `utime`), so the figure is a lower bound.
 *
 * @returns undefined when the process itself cannot be read.
 */
export function processTreeCpuSeconds(pid: number): number | undefined {
  const stats = readProcessStats();
  const tree = descendantsOf(pid, stats);
  if (!tree.has(pid)) return undefined;
  return stats.filter((s) => tree.has(s.pid)).reduce((sum, s) => sum + s.cpuSeconds, 0);
}

/** `pid` and every process below it, from one listing of /proc (empty when pid is not there). */
export function processTree(pid: number): ReadonlySet<number> {
  return descendantsOf(pid, readProcessStats());
}

interface ProcessStat {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly cpuSeconds: number;
}

function descendantsOf(pid: number, stats: ReadonlyArray<ProcessStat>): Set<number> {
  const tree = new Set<number>();
  if (!stats.some((s) => s.pid === pid)) return tree;
  tree.add(pid);
  // Parents may be listed after their children; repeat until no process joins.
  for (let grew = true; grew;) {
    grew = false;
    for (const s of stats) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) {
        tree.add(s.pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** Every process /proc lists now, with its parent, command name and CPU seconds. */
function readProcessStats(): ProcessStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const hz = clockTicksPerSecond();
  const stats: ProcessStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const line = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const end = line.lastIndexOf(')');
      // After the name: state (field 3), then ppid (field 4).
      const ppid = Number(
        line
          .slice(end + 1)
          .trim()
          .split(/\s+/)[1],
      );
      stats.push({
        pid: Number(entry),
        ppid,
        name: line.slice(line.indexOf('(') + 1, end),
        cpuSeconds: parseProcStatCpuSeconds(line, hz),
      });
    } catch {
      continue; // exited since the listing, or not a stat line
    }
  }
  return stats;
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
