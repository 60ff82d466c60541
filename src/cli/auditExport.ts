/**
 * `npm run audit:export -- --from <ISO> --to <ISO> [--tenant T] [--actor ID] [--action A]
 * [--patient ID] [--out FILE]`: the audit trail of [from, to) as NDJSON, for compliance staff
 * who hold database credentials. Lines go to stdout or --out; the progress bar (on a terminal)
 * and the summary go to stderr. Exit codes: 0 done, 1 failed, 2 bad flags or configuration.
 */
import { SingleBar, Presets } from 'cli-progress';
import { createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ExportNotRecordedError, exportAuditEvents } from '../audit/exportAuditEvents.js';
import {
  EXPORT_HELP,
  EXPORT_USAGE,
  ExportUsageError,
  parseExportFlags,
} from '../audit/exportFlags.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';
import { describeError, type ErrorDescription } from '../logger.js';

function fail(message: string, code: number): never {
  process.stderr.write(`audit:export: ${message}\n`);
  process.exit(code);
}

// What an operator can act on, by driver or Postgres code; messages stay out (a driver's can
// quote a statement's parameters).
const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'is the database reachable?',
  ENOTFOUND: 'is the database host right?',
  '28P01': 'the database refused the password',
  '3D000': 'no such database',
  '42501': 'the database user lacks a privilege (SELECT and INSERT on audit_events)',
  EPIPE: 'the output was closed before the export ended',
};

/** The error's class and the first code along its causes, with a hint when one is known. */
function summarize(error: unknown): string {
  let description: ErrorDescription | undefined = describeError(error);
  const type = description.type;
  let code: string | undefined;
  while (description !== undefined && code === undefined) {
    code = description.code;
    description = description.cause;
  }
  const hint = code === undefined ? undefined : HINTS[code];
  return `${type}${code === undefined ? '' : ` (${code})`}${hint === undefined ? '' : `: ${hint}`}`;
}

let flags;
try {
  flags = parseExportFlags(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ExportUsageError)) throw error;
  fail(`${error.message}\n${EXPORT_USAGE}`, 2);
}
if (flags.help) {
  process.stdout.write(EXPORT_HELP);
  process.exit(0);
}
const { criteria, tenantId, out: outPath } = flags;

let config;
try {
  config = loadConfig();
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error), 2);
}
if (config.databaseUrl === undefined) {
  fail('needs DATABASE_URL: the embedded database lives inside `npm start` and ends with it', 2);
}

let output: Writable = process.stdout;
if (outPath !== undefined) {
  const file = createWriteStream(outPath, { flags: 'wx', mode: 0o600 });
  try {
    await once(file, 'open');
  } catch (error) {
    fail(`cannot create the --out file: ${summarize(error)} (it is never overwritten)`, 2);
  }
  output = file;
  // An interrupted export leaves no file that could pass for a complete one.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      rmSync(outPath, { force: true });
      fail(`interrupted; ${outPath} removed`, code);
    });
  }
}

const database = await createDatabase({ url: config.databaseUrl, poolMax: 2 });
const bar = process.stderr.isTTY
  ? new SingleBar(
      { stream: process.stderr, format: 'exporting {bar} {value}/{total} events | {eta}s left' },
      Presets.shades_classic,
    )
  : undefined;
try {
  const report = await exportAuditEvents({
    db: database.db,
    criteria,
    tenantId,
    output,
    endOutput: outPath !== undefined,
    onStart: (total) => bar?.start(total, 0),
    onProgress: (written) => bar?.update(written),
  });
  bar?.stop();
  const tenants = report.byTenant.map((t) => `${t.tenantId}: ${String(t.events)}`).join(', ');
  process.stderr.write(
    `exported ${String(report.written)} events${tenants === '' ? '' : ` (${tenants})`} to ` +
      `${outPath ?? 'stdout'}; ` +
      (report.byTenant.length === 0
        ? 'nothing to record\n'
        : `recorded as export ${report.exportId}\n`),
  );
} catch (error) {
  bar?.stop();
  if (outPath !== undefined) rmSync(outPath, { force: true });
  const what = summarize(error instanceof ExportNotRecordedError ? error.reason : error);
  process.stderr.write(
    error instanceof ExportNotRecordedError
      ? `audit:export: the export could not be recorded in the audit trail (${what}); nothing was exported\n`
      : `audit:export failed: ${what}${outPath === undefined ? '' : `; ${outPath} removed`}\n`,
  );
  process.exitCode = 1;
} finally {
  await database.close();
}
