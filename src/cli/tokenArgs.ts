import { isSubject, isTenantId, TENANT_ID_RULE } from '../auth/claimRules.js';
import { isRole, ROLES } from '../auth/principal.js';
import type { TokenClaims } from '../auth/tokens.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { parseFlags, UsageError } from './cliArgs.js';

export const TOKEN_USAGE = `Signs a development bearer token with JWT_SECRET (and JWT_ISSUER / JWT_AUDIENCE when set).

usage: npm run token -- --role ROLE --tenant TENANT [--doctor ID] [--patient ID] [--sub TEXT] [--expires DURATION]

  --role      ${ROLES.join(' | ')}
  --tenant    the tenant id, ${TENANT_ID_RULE}
  --doctor    the doctor a clinician is (a uuid); required with --role clinician, refused otherwise
  --patient   the patient a patient token is (a uuid); required with --role patient, refused otherwise
  --sub       the subject, recorded as the actor in the audit trail (default: <role>-<id or "user">)
  --expires   lifetime: a whole number and a unit, s m h or d, e.g. 30m, 8h, 7d (default 8h, at most 365d)
  --help      prints this and exits

Ids of the seeded doctors and patients: npm run dev:users -- --tenant t1

examples:
  npm run token -- --role frontdesk --tenant t1
  npm run token -- --role clinician --tenant t1 --doctor 1b0c6f0e-8d5a-4c2e-9f41-6a7b8c9d0e1f --expires 1h
`;

export type TokenRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'sign'; readonly claims: TokenClaims; readonly expiresIn: string };

const DURATION_PATTERN = /^([1-9][0-9]{0,8})([smhd])$/;
const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_LIFETIME_SECONDS = 365 * 86_400;

/**
 * Reads the token CLI's flags and checks them against what `authenticate()` accepts, so that
 * every token it signs is one the server takes.
 *
 * @throws UsageError for the first flag that is unknown, missing or invalid.
 */
export function parseTokenArgs(args: ReadonlyArray<string>): TokenRequest {
  const values = parseFlags(args, {
    help: { type: 'boolean', short: 'h' },
    role: { type: 'string' },
    tenant: { type: 'string' },
    doctor: { type: 'string' },
    patient: { type: 'string' },
    sub: { type: 'string' },
    expires: { type: 'string' },
  });
  if (values.help === true) return { kind: 'help' };
  const { role, tenant, doctor, patient } = values;
  if (role === undefined) throw new UsageError('--role is required');
  if (!isRole(role)) {
    throw new UsageError(`unknown role ${JSON.stringify(role)}: use one of ${ROLES.join(', ')}`);
  }
  if (tenant === undefined) throw new UsageError('--tenant is required');
  if (!isTenantId(tenant)) {
    throw new UsageError(
      `the server refuses tenant ${JSON.stringify(tenant)}: a tenant id is ${TENANT_ID_RULE}`,
    );
  }
  const doctorId = idFlag('doctor', doctor, role === 'clinician');
  const patientId = idFlag('patient', patient, role === 'patient');
  const sub = values.sub ?? `${role}-${doctorId ?? patientId ?? 'user'}`;
  if (!isSubject(sub)) {
    throw new UsageError('--sub must be 1-256 printable characters (no control characters)');
  }
  return {
    kind: 'sign',
    claims: { sub, tenant, role, doctorId, patientId },
    expiresIn: lifetimeOf(values.expires ?? '8h'),
  };
}

/** A `--doctor` or `--patient` id: required for the role it names, refused for any other. */
function idFlag(flag: 'doctor' | 'patient', value: string | undefined, required: boolean) {
  const role = flag === 'doctor' ? 'clinician' : 'patient';
  if (value === undefined) {
    if (required) throw new UsageError(`a ${role} token needs --${flag} ID (a uuid)`);
    return undefined;
  }
  if (!required) throw new UsageError(`--${flag} applies to --role ${role} only`);
  if (!isUuid(value)) {
    throw new UsageError(`--${flag} must be a uuid, such as 1b0c6f0e-8d5a-4c2e-9f41-6a7b8c9d0e1f`);
  }
  return normalizeId(value);
}

/** The lifetime in jose's relative form (`900s`), from a strict `<n><unit>`. */
function lifetimeOf(value: string): string {
  const match = DURATION_PATTERN.exec(value);
  const unit = match?.[2] as keyof typeof SECONDS_PER_UNIT | undefined;
  const seconds = unit === undefined ? NaN : Number(match?.[1]) * SECONDS_PER_UNIT[unit];
  if (!(seconds <= MAX_LIFETIME_SECONDS)) {
    throw new UsageError(
      `--expires ${JSON.stringify(value)} is not a duration: use a whole number and s, m, h or d, such as 30m, 8h or 7d (at most 365d)`,
    );
  }
  return `${seconds}s`;
}
