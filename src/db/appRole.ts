/**
 * The database role the API runs as. The owner of `audit_events` can defeat its append-only
 * trigger (`ALTER TABLE … DISABLE TRIGGER`; a superuser also `SET session_replication_role`),
 * so the API must not connect as the owner: `npm run db:migrate` runs as the owner and makes
 * `caregraph_app`, which owns nothing and holds only what the API's statements need.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { AUDIT_INSERT_COLUMNS } from './insertAuditEvents.js';

/** The role's name. Roles are cluster-wide; its privileges are granted per database. */
export const APP_ROLE = 'caregraph_app';

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** A privilege on the whole table, or (INSERT, UPDATE) on the listed columns only. */
export type TableGrant =
  | TablePrivilege
  | { readonly privilege: 'INSERT' | 'UPDATE'; readonly columns: ReadonlyArray<string> };

/**
 * Every table of the schema and what the statements of src/db/mutations, src/db/queries,
 * src/db/entities.ts, src/db/relations.ts and src/db/insertAuditEvents.ts need of it. A new
 * table or statement needs an entry here; test/db/appRole.test.ts fails until it has one.
 * Writes are granted on the columns the API writes, so that the role cannot forge what the
 * server assigns (ids, tenants, owners, timestamps); a write that names another column fails.
 */
export const APP_TABLE_PRIVILEGES: Readonly<Record<string, ReadonlyArray<TableGrant>>> = {
  // No statement of the API reads it: foreign-key checks run as the referenced table's owner.
  tenants: [],
  departments: ['SELECT'],
  // updateDoctor's fields.
  doctors: [
    'SELECT',
    { privilege: 'UPDATE', columns: ['name', 'title', 'specialty', 'department_id'] },
  ],
  // updatePatient's and setConsent's fields. UPDATE on any column also covers the row locks
  // (FOR UPDATE, FOR SHARE) of care-team and record writes.
  patients: [
    'SELECT',
    {
      privilege: 'UPDATE',
      columns: ['name', 'phone', 'primary_doctor_id', 'consent_granted', 'updated_at'],
    },
  ],
  care_team: ['SELECT', 'INSERT', 'DELETE'],
  // addMedicalRecord writes every column, id and recorded_at included.
  medical_records: ['SELECT', 'INSERT'],
  // updateStudyReport's fields.
  studies: ['SELECT', { privilege: 'UPDATE', columns: ['report_status', 'report'] }],
  // Append-only: the API writes events and auditors read them, nothing else. id and
  // occurred_at take their defaults, so no event can be back-dated or take another's id.
  audit_events: ['SELECT', { privilege: 'INSERT', columns: AUDIT_INSERT_COLUMNS }],
  // Every write's invalidation, published in its transaction; instances read it back after a
  // reconnect and prune what is past use. seq and committed_at take their defaults.
  cache_invalidations: [
    'SELECT',
    'DELETE',
    { privilege: 'INSERT', columns: ['tenant_id', 'scopes'] },
  ],
  // Raised (never lowered) by writes to a tenant's reference data or the whole tenant.
  cache_scope_floors: [
    'SELECT',
    { privilege: 'INSERT', columns: ['tenant_id', 'scope', 'seq'] },
    { privilege: 'UPDATE', columns: ['seq'] },
  ],
};

/** Thrown by migrate when an existing `caregraph_app` could rewrite the audit trail. */
export class AppRoleError extends Error {
  constructor(
    readonly role: string,
    readonly problems: ReadonlyArray<string>,
  ) {
    super(`${role} is unsafe to run the API as: ${problems.join('; ')}`);
    this.name = 'AppRoleError';
  }
}

export interface AppRoleOptions {
  /** When given, the role may log in with it; otherwise its login is left as it is. */
  readonly password?: string | undefined;
  /** Another name than APP_ROLE, for tests that must not disturb the cluster's real role. */
  readonly role?: string;
}

/**
 * Creates the app role if absent (NOLOGIN), sets its password when one is given, and grants it
 * exactly its privileges on the connected database, revoking any others. Idempotent and safe to
 * run from many databases of one cluster at once; run by every migration, so the grants follow
 * the schema.
 *
 * @throws AppRoleError when an existing role has an attribute, membership or object that would
 *   let it rewrite the trail; the driver's error when the migrating role may not create roles
 *   or grant on the schema.
 */
export async function ensureAppRole(
  client: postgres.Sql,
  options: AppRoleOptions = {},
): Promise<void> {
  const role = options.role ?? APP_ROLE;
  await client.begin(async (tx) => {
    // The name travels as a parameter; a DO block takes none, so it reads it from a setting.
    await tx`select set_config('caregraph.app_role', ${role}, true)`;
    // Two migrations on one cluster may both see no role; the loser's duplicate is not an error.
    await tx.unsafe(`DO $$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
            WHERE rolname = current_setting('caregraph.app_role')) THEN
          EXECUTE format('CREATE ROLE %I NOLOGIN', current_setting('caregraph.app_role'));
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END $$`);
  });
  await checkRole(client, role);
  if (options.password !== undefined) {
    await setPassword(client, role, scramVerifier(options.password));
  }
  await grantPrivileges(client, role);
}

async function checkRole(client: postgres.Sql, name: string): Promise<void> {
  const [role] = await client<Array<Record<string, boolean>>>`
    select r.rolsuper as "it has SUPERUSER", r.rolcreaterole as "it has CREATEROLE",
      r.rolcreatedb as "it has CREATEDB", r.rolreplication as "it has REPLICATION",
      r.rolbypassrls as "it has BYPASSRLS",
      pg_has_role(r.oid, c.relowner, 'MEMBER') as "it is a member of the owner of audit_events",
      exists (select from pg_catalog.pg_shdepend d where d.refobjid = r.oid and d.deptype = 'o'
        and d.dbid in (0, (select oid from pg_catalog.pg_database
          where datname = current_database()))) as "it owns objects"
    from pg_catalog.pg_roles r, pg_catalog.pg_class c
    where r.rolname = ${name} and c.oid = 'public.audit_events'::regclass`;
  const problems = Object.entries(role ?? {})
    .filter(([, held]) => held)
    .map(([problem]) => problem);
  if (problems.length > 0) throw new AppRoleError(name, problems);
}

async function setPassword(client: postgres.Sql, role: string, verifier: string): Promise<void> {
  await client.begin(async (tx) => {
    // Parameters, not text spliced into SQL; and a verifier, so no log sees the password.
    await tx`select set_config('caregraph.app_role', ${role}, true)`;
    await tx`select set_config('caregraph.app_role_verifier', ${verifier}, true)`;
    // Two migrations altering the role at once fail one with this internal error: try again.
    await tx.unsafe(`DO $$
      DECLARE attempt int := 0;
      BEGIN
        LOOP
          BEGIN
            EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', current_setting('caregraph.app_role'),
              current_setting('caregraph.app_role_verifier'));
            RETURN;
          EXCEPTION WHEN internal_error THEN
            IF SQLERRM <> 'tuple concurrently updated' OR attempt >= 10 THEN RAISE; END IF;
            attempt := attempt + 1;
            PERFORM pg_sleep(0.02 * attempt);
          END;
        END LOOP;
      END $$`);
  });
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `SELECT`, or `INSERT ("a", "b")`: one item of a GRANT's privilege list. */
const grantText = (grant: TableGrant): string =>
  typeof grant === 'string' ? grant : `${grant.privilege} (${grant.columns.map(quote).join(', ')})`;

async function grantPrivileges(client: postgres.Sql, name: string): Promise<void> {
  // One transaction: a running API never sees the moment between REVOKE and GRANT.
  await client.begin(async (tx) => {
    // Two migrations of one database would otherwise update the same catalog rows at once.
    await tx`select pg_advisory_xact_lock(hashtext('caregraph.app_role_grants'))`;
    const [current] = await tx<Array<{ name: string }>>`select current_database() as name`;
    const database = quote(current?.name ?? '');
    const role = quote(name);
    const statements = [
      // Before Postgres 15 every role may create in public; temporary tables could shadow ours.
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
      `REVOKE TEMPORARY ON DATABASE ${database} FROM PUBLIC`,
      `REVOKE ALL ON DATABASE ${database} FROM ${role}`,
      `GRANT CONNECT ON DATABASE ${database} TO ${role}`,
      `REVOKE ALL ON SCHEMA public FROM ${role}`,
      `GRANT USAGE ON SCHEMA public TO ${role}`,
      `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`,
      `REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`,
      ...Object.entries(APP_TABLE_PRIVILEGES)
        .filter(([, grants]) => grants.length > 0)
        .map(
          ([table, grants]) =>
            `GRANT ${grants.map(grantText).join(', ')} ON TABLE public.${quote(table)} TO ${role}`,
        ),
    ];
    for (const statement of statements) await tx.unsafe(statement);

    // INSERT draws ids from the table's own sequences: nextval needs USAGE (setval, UPDATE).
    const inserting = Object.entries(APP_TABLE_PRIVILEGES)
      .filter(([, grants]) =>
        grants.some((grant) => (typeof grant === 'string' ? grant : grant.privilege) === 'INSERT'),
      )
      .map(([table]) => table);
    const sequences = await tx<Array<{ name: string }>>`
      select s.relname as name
      from pg_catalog.pg_depend d
      join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
      join pg_catalog.pg_class t on t.oid = d.refobjid
      join pg_catalog.pg_namespace n on n.oid = t.relnamespace
      where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass
        and d.deptype in ('a', 'i') and n.nspname = 'public'
        and t.relname in (select json_array_elements_text(${JSON.stringify(inserting)}::text::json))`;
    for (const { name } of sequences)
      await tx.unsafe(`GRANT USAGE ON SEQUENCE public.${quote(name)} TO ${role}`);
  });
}

/**
 * The SCRAM-SHA-256 verifier of a password in the form Postgres stores (RFC 5802, RFC 7677),
 * as psql's `\password` sends it. Postgres would SASLprep a non-ASCII password first; config
 * admits ASCII only, for which SASLprep changes nothing.
 *
 * @returns `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 parts.
 */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = 4096,
): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (text: string): Buffer => createHmac('sha256', salted).update(text).digest();
  const storedKey = createHash('sha256').update(hmac('Client Key')).digest();
  const b64 = (bytes: Buffer): string => bytes.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(hmac('Server Key'))}`;
}
