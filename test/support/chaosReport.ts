import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fault scenario's figures, as the chaos suite's table prints them. */
export interface ChaosRow {
  readonly scenario: string;
  /** GraphQL reads sent while the fault lasted and just after. */
  readonly reads: number;
  /** Reads that did not answer as they should, where Postgres was up. */
  readonly failedReads: number;
  /** Reads on another instance that served what a write had replaced, more than 1 s after its commit. */
  readonly staleReads: number;
  /** The latest a stale read came after the commit, in ms (0 when none came). */
  readonly lastStaleMs: number;
  /** Reads that served PHI without an audit row for it. */
  readonly unauditedPhi: number;
  /** How long after the fault ended L2 served hits again, with no restart; null if it did not. */
  readonly recoveryMs: number | null;
}

/** Records a row for the table the test run prints at its end (`printChaosTable`). */
export function recordChaosRow(dir: string, row: ChaosRow): void {
  mkdirSync(dir, { recursive: true });
  const name = row.scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(row));
}

/** The chaos suite's figures as one Markdown table, or undefined when no scenario ran. */
export function chaosTable(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  const rows = files
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ChaosRow)
    .sort((a, b) => a.scenario.localeCompare(b.scenario));
  const lines = [
    '| scenario | reads | failed reads | stale reads > 1 s after commit | unaudited PHI | L2 hits again after |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.reads} | ${r.failedReads} | ${r.staleReads}${
          r.lastStaleMs > 0 ? ` (last at ${r.lastStaleMs} ms)` : ''
        } | ${r.unauditedPhi} | ${r.recoveryMs === null ? 'never' : `${(r.recoveryMs / 1000).toFixed(1)} s`} |`,
    ),
  ];
  return lines.join('\n');
}
