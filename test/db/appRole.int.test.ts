import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scramVerifier } from '../../src/db/appRole.js';
import { auditEvents } from '../../src/db/tables/index.js';
import { APP_ROLE_NAME, createAppRoleDatabase } from '../support/appRoleDatabase.js';
import type { AppRoleDatabase } from '../support/appRoleDatabase.js';

/**
 * What the API's statements need, written out here rather than imported, so that a change to
 * the grants in src/db/appRole.ts has to be made twice, on purpose. Table-wide privileges only:
 * INSERT on audit_events and UPDATE on doctors, patients and studies are granted on some
 * columns (test/db/appRoleColumns.int.test.ts).
 */
const EXPECTED_TABLE_PRIVILEGES: Record<string, string> = {
  'drizzle.__drizzle_migrations': '',
  'public.audit_events': 'SELECT',
  'public.cache_invalidations': 'SELECT,DELETE',
  'public.cache_scope_floors': 'SELECT',
  'public.care_team': 'SELECT,INSERT,DELETE',
  'public.departments': 'SELECT',
  'public.doctors': 'SELECT',
  'public.medical_records': 'SELECT,INSERT',
  'public.patients': 'SELECT',
  'public.studies': 'SELECT',
  'public.tenants': '',
};
const TABLE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
];

/** Every route the issue names, and the ones next to them, to rewrite or silence the trail. */
function attacks(owner: string): Array<{ route: string; statements: string[] }> {
  const one = (route: string, statement: string) => ({ route, statements: [statement] });
  return [
    one('delete', 'delete from audit_events'),
    one(
      'delete in a CTE',
      'with gone as (delete from audit_events returning id) select * from gone',
    ),
    one(
      'merge delete',
      'merge into audit_events a using (select 1) s on true when matched then delete',
    ),
    one('update', `update audit_events set actor_id = 'someone-else'`),
    one(
      'upsert',
      `insert into audit_events (id, tenant_id, actor_id, actor_role, action, resource_type, request_id, outcome)
      select id, tenant_id, 'x', 'x', 'read', 'x', 'x', 'allowed' from audit_events
      on conflict (id) do update set actor_id = 'someone-else'`,
    ),
    one('truncate', 'truncate audit_events'),
    one('row locks', 'select id from audit_events for update'),
    one('table lock', 'lock table audit_events in access exclusive mode'),
    one('session_replication_role', 'set session_replication_role = replica'),
    one('set local replication role', 'set local session_replication_role = replica'),
    one('set_config', `select set_config('session_replication_role', 'replica', false)`),
    one(
      'replica role, then delete',
      `set session_replication_role = replica; delete from audit_events`,
    ),
    one(
      'disable one trigger',
      'alter table audit_events disable trigger audit_events_no_update_or_delete',
    ),
    one('disable all triggers', 'alter table audit_events disable trigger all'),
    one(
      'trigger fires on replica only',
      'alter table audit_events enable replica trigger audit_events_no_truncate',
    ),
    one('drop trigger', 'drop trigger audit_events_no_update_or_delete on audit_events'),
    one('rename trigger', 'alter trigger audit_events_no_truncate on audit_events rename to gone'),
    one('drop function', 'drop function audit_events_append_only() cascade'),
    one(
      'replace function',
      `create or replace function audit_events_append_only() returns trigger
      language plpgsql as $$ begin return old; end $$`,
    ),
    one('take the function', `alter function audit_events_append_only() owner to ${APP_ROLE_NAME}`),
    one('drop table', 'drop table audit_events'),
    one('rename table', 'alter table audit_events rename to audit_events_old'),
    one('take the table', `alter table audit_events owner to ${APP_ROLE_NAME}`),
    one('rule', 'create rule keep_quiet as on insert to audit_events do instead nothing'),
    one('row security', 'alter table audit_events enable row level security'),
    one(
      'insert trigger that drops rows',
      `create trigger swallow before insert on audit_events
      for each row execute function suppress_redundant_updates_trigger()`,
    ),
    one('rewind the sequence', `select setval('audit_events_id_seq', 1)`),
    one('restart the sequence', 'alter sequence audit_events_id_seq restart'),
    one('create table', 'create table public.audit_shadow (id int)'),
    one('create function', 'create function public.f() returns int language sql as $$ select 1 $$'),
    one('create view', 'create view public.audit_view as select * from audit_events'),
    one('temporary shadow', 'create temporary table audit_events (id int)'),
    one('create schema', 'create schema evil'),
    one('set role to the owner', `set role "${owner}"`),
    one('session authorization', `set session authorization "${owner}"`),
    one('join the owner', `grant "${owner}" to ${APP_ROLE_NAME}`),
    one('become superuser', `alter role ${APP_ROLE_NAME} superuser`),
    one('bypass row security', `alter role ${APP_ROLE_NAME} bypassrls`),
    one(
      'grant itself the parameter',
      `grant set on parameter session_replication_role to ${APP_ROLE_NAME}`,
    ),
  ];
}

interface TrailState {
  rows: number;
  digest: string;
  triggers: string;
  functionSource: string;
  owner: string;
}

async function trailState(client: postgres.Sql): Promise<TrailState> {
  const [state] = await client<TrailState[]>`
    select (select count(*)::int from audit_events) as rows,
      (select md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from audit_events t) as digest,
      (select string_agg(tgname::text || '=' || tgenabled::text, ',' order by tgname) from pg_trigger
        where tgrelid = 'audit_events'::regclass and not tgisinternal) as triggers,
      (select md5(prosrc) from pg_proc where proname = 'audit_events_append_only') as "functionSource",
      (select tableowner from pg_tables where tablename = 'audit_events') as owner`;
  if (state === undefined) throw new Error('no state');
  return state;
}

describe.skipIf(inject('postgresRun') === null)('the caregraph_app role', () => {
  let database: AppRoleDatabase;
  let owner: postgres.Sql;
  let app: postgres.Sql;

  beforeAll(async () => {
    database = await createAppRoleDatabase();
    owner = postgres(database.ownerUrl, { max: 1, onnotice: () => undefined });
    app = postgres(database.appUrl, { max: 1, onnotice: () => undefined });
    await database.owner.db.insert(auditEvents).values(
      ['a', 'b', 'c'].map((requestId) => ({
        tenantId: 't1',
        actorId: 'clinician-1',
        actorRole: 'clinician',
        action: 'read' as const,
        resourceType: 'Patient',
        requestId,
        outcome: 'allowed' as const,
      })),
    );
  });
  afterAll(async () => {
    await app.end();
    await owner.end();
    await database.close();
  });

  it('logs in with the migrate password, and holds no attribute, membership or object', async () => {
    const [self] = await app<{ user: string }[]>`select current_user as user`;
    expect(self?.user).toBe(APP_ROLE_NAME);
    const [role] = await owner`
      select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
        (select count(*)::int from pg_auth_members m where m.member = r.oid) as memberships,
        (select count(*)::int from pg_shdepend d where d.refobjid = r.oid and d.deptype = 'o') as owns,
        has_parameter_privilege(r.oid, 'session_replication_role', 'SET') as replication_role
      from pg_roles r where rolname = ${APP_ROLE_NAME}`;
    expect(role).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      memberships: 0,
      owns: 0,
      replication_role: false,
    });
  });

  it('stores the migrate password as a SCRAM verifier that Postgres computes the same way', async () => {
    const [stored] = await owner<{ verifier: string }[]>`
      select rolpassword as verifier from pg_authid where rolname = ${APP_ROLE_NAME}`;
    const parts = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored?.verifier ?? '');
    const salt = Buffer.from(parts?.[2] ?? '', 'base64');
    expect(stored?.verifier).toBe(scramVerifier(database.password, salt, Number(parts?.[1])));
    // The server's own hashing of a password, on a role of this run, gives the same verifier.
    const scratch = `${inject('postgresRun')?.runId ?? ''}_scram`;
    await owner.unsafe(`create role "${scratch}" nologin password '${database.password}'`);
    try {
      const [server] = await owner<{ verifier: string }[]>`
        select rolpassword as verifier from pg_authid where rolname = ${scratch}`;
      const own = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(server?.verifier ?? '');
      const ownSalt = Buffer.from(own?.[2] ?? '', 'base64');
      expect(server?.verifier).toBe(scramVerifier(database.password, ownSalt, Number(own?.[1])));
    } finally {
      await owner.unsafe(`drop role "${scratch}"`);
    }
  });

  it('holds exactly the privileges the API needs, and no more', async () => {
    const tables = await owner<{ name: string; privileges: string }[]>`
      select n.nspname || '.' || c.relname as name,
        coalesce(string_agg(p.privilege, ',' order by p.ord), '') as privileges
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      left join unnest(${TABLE_PRIVILEGES}::text[]) with ordinality as p(privilege, ord)
        on has_table_privilege(${APP_ROLE_NAME}, c.oid, p.privilege)
      where c.relkind in ('r', 'p', 'v', 'm', 'f')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
      group by 1 order by 1`;
    expect(Object.fromEntries(tables.map((t) => [t.name, t.privileges]))).toEqual(
      EXPECTED_TABLE_PRIVILEGES,
    );
    const [other] = await owner`
      select has_sequence_privilege(${APP_ROLE_NAME}, 'audit_events_id_seq', 'USAGE') as seq_usage,
        has_sequence_privilege(${APP_ROLE_NAME}, 'audit_events_id_seq', 'UPDATE') as seq_update,
        has_schema_privilege(${APP_ROLE_NAME}, 'public', 'USAGE') as schema_usage,
        has_schema_privilege(${APP_ROLE_NAME}, 'public', 'CREATE') as schema_create,
        has_schema_privilege(${APP_ROLE_NAME}, 'drizzle', 'USAGE') as migrations_usage,
        has_database_privilege(${APP_ROLE_NAME}, current_database(), 'CONNECT') as connect,
        has_database_privilege(${APP_ROLE_NAME}, current_database(), 'CREATE') as db_create,
        has_database_privilege(${APP_ROLE_NAME}, current_database(), 'TEMPORARY') as temporary`;
    expect(other).toEqual({
      seq_usage: true,
      seq_update: false,
      schema_usage: true,
      schema_create: false,
      migrations_usage: false,
      connect: true,
      db_create: false,
      temporary: false,
    });
  });

  it('lets the owner defeat the trigger, which is why the API must not run as the owner', async () => {
    const remaining = await owner
      .begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`delete from audit_events`;
        const [left] = await tx<{ n: number }[]>`select count(*)::int as n from audit_events`;
        throw Object.assign(new Error('rollback'), { left: left?.n });
      })
      .catch((error: unknown) => (error as { left?: number }).left);
    expect(remaining).toBe(0);
    expect((await trailState(owner)).rows).toBe(3);
  });

  it('refuses every route to rewrite, remove or silence audit rows, with a permission error', async () => {
    const before = await trailState(owner);
    expect(before.rows).toBe(3);
    const outcomes: Array<{ route: string; code: unknown; message: string }> = [];
    for (const { route, statements } of attacks(before.owner)) {
      const result = await app
        .begin(async (tx) => {
          for (const statement of statements) await tx.unsafe(statement).simple();
          return { code: 'none', message: 'succeeded' };
        })
        .catch((error: unknown) => ({
          code: (error as { code?: unknown }).code,
          message: error instanceof Error ? error.message : String(error),
        }));
      outcomes.push({ route, ...result });
    }
    for (const outcome of outcomes) {
      // 42501 is insufficient_privilege. The trigger raises it too, so its message is refused:
      // only the privilege system counts as a refusal here.
      expect(outcome, outcome.route).toMatchObject({ code: '42501' });
      expect(outcome.message, outcome.route).toMatch(/permission denied|must be (owner|superuser)/);
      expect(outcome.message, outcome.route).not.toMatch(/append-only/);
    }
    const [session] = await app<{ role: string }[]>`
      select current_setting('session_replication_role') as role`;
    expect(session?.role).toBe('origin');
    expect(await trailState(owner)).toEqual(before);
  });

  it('inserts and reads audit events, which is all it may do with them', async () => {
    await app`insert into audit_events (tenant_id, actor_id, actor_role, action, resource_type,
      request_id, outcome) values ('t1', 'auditor-1', 'auditor', 'read', 'Patient', 'd', 'allowed')`;
    const rows = await app<{ request_id: string }[]>`
      select request_id from audit_events order by id`;
    expect(rows.map((r) => r.request_id)).toEqual(['a', 'b', 'c', 'd']);
  });
});
