import { parseArgs } from 'node:util';
import { isTenantId, TENANT_ID_RULE } from '../auth/claimRules.js';
import { firstRepeatedFlag } from '../cli/repeatedFlag.js';
import type { AuditCriteria } from '../db/queries/auditEventPage.js';
import { BadUserInputError } from '../errors.js';
import { parseAuditCriteria } from './auditCriteria.js';

export const EXPORT_USAGE =
  'usage: npm run audit:export -- --from <ISO-8601> --to <ISO-8601> [--tenant T] [--actor ID]\n' +
  '         [--action read|write|purge|deny|break_glass|warm|export] [--patient UUID] [--out FILE]\n';

export const EXPORT_HELP = `${EXPORT_USAGE}
Writes the audit events of [from, to) (from included, to excluded) from DATABASE_URL as NDJSON,
one event per line with every column, tenant by tenant and oldest first. Instants take an
offset (2026-01-02T03:04:05Z, 2026-01-02T04:04:05+01:00) or are a date (2026-01-02, midnight UTC).

  --tenant T    one tenant's events (default: every tenant's)
  --actor ID    one actor's events (a token's sub, or system)
  --action A    one action's events
  --patient ID  the events about one patient
  --out FILE    write to FILE (created with mode 600; never overwritten) instead of stdout

The export is itself audited: one 'export' event per tenant exported, with the number of
events, the database user as actor, committed before the first line is written.
`;

/** What `npm run audit:export` was asked for. */
export type ExportFlags =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly criteria: AuditCriteria;
      readonly tenantId: string | undefined;
      readonly out: string | undefined;
    };

/** A flag is unknown, missing or invalid. The message says which, never what it held. */
export class ExportUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportUsageError';
  }
}

const FLAG_OF: Readonly<Record<string, string>> = { patientId: '--patient', actorId: '--actor' };

/**
 * Parses the export's command line strictly: every flag known, --from and --to given, each value
 * valid.
 *
 * @throws ExportUsageError saying what is wrong
 */
export function parseExportFlags(args: ReadonlyArray<string>): ExportFlags {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      tokens: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        tenant: { type: 'string' },
        actor: { type: 'string' },
        action: { type: 'string' },
        patient: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ExportUsageError(error instanceof Error ? error.message : String(error));
  }
  const repeated = firstRepeatedFlag(parsed.tokens);
  if (repeated !== undefined) throw new ExportUsageError(`${repeated} is given more than once`);
  const { values } = parsed;
  if (values.help === true) return { help: true };
  if (values.from === undefined || values.to === undefined) {
    throw new ExportUsageError('--from and --to are required: an export covers a stated range');
  }
  if (values.tenant !== undefined && !isTenantId(values.tenant)) {
    // The rule the server and `npm run token` apply: `T1` names no tenant, rather than none.
    throw new ExportUsageError(`--tenant is not a tenant id: a tenant id is ${TENANT_ID_RULE}`);
  }
  if (values.out?.trim() === '') throw new ExportUsageError('--out must name a file');
  try {
    const criteria = parseAuditCriteria(
      {
        from: values.from,
        to: values.to,
        actorId: values.actor,
        action: values.action,
        patientId: values.patient,
      },
      (name) => FLAG_OF[name] ?? `--${name}`,
    );
    return { help: false, criteria, tenantId: values.tenant, out: values.out };
  } catch (error) {
    if (error instanceof BadUserInputError) throw new ExportUsageError(error.message);
    throw error;
  }
}
