import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppRoleError, ensureAppRole } from '../../src/db/appRole.js';
import { createMigratedDatabase } from '../support/appRoleDatabase.js';

const run = inject('postgresRun');

/**
 * These tests give a role of their own the app role's treatment, so that creating it, racing
 * for it and making it unsafe never disturbs the cluster's real caregraph_app, which every
 * other test database of every run on this cluster has grants to.
 */
describe.skipIf(run === null)('ensureAppRole', () => {
  const role = `${run?.runId ?? ''}_${randomBytes(3).toString('hex')}_app`;
  const urls: string[] = [];
  let admin: postgres.Sql;

  const privileges = async (url: string) => {
    const client = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      const [row] = await client<Array<Record<string, boolean>>>`
        select has_column_privilege(${role}, 'audit_events', 'actor_id', 'INSERT') as audit_insert,
          has_column_privilege(${role}, 'audit_events', 'id', 'INSERT') as audit_insert_id,
          has_table_privilege(${role}, 'audit_events', 'DELETE') as audit_delete,
          has_table_privilege(${role}, 'departments', 'SELECT') as departments_select,
          has_table_privilege(${role}, 'tenants', 'SELECT') as tenants_select`;
      return row;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    admin = postgres(run?.baseUrl ?? '', { max: 1, onnotice: () => undefined });
    urls.push(...(await Promise.all([1, 2, 3].map(() => createMigratedDatabase()))));
  });
  afterAll(async () => {
    // The role's grants live in these databases: they go first, then the role can.
    for (const url of urls) {
      await admin.unsafe(
        `drop database if exists "${new URL(url).pathname.slice(1)}" with (force)`,
      );
    }
    await admin.unsafe(`drop role if exists "${role}"`);
    await admin.end();
  });

  it('creates one role and grants it on every database when many migrations race for it', async () => {
    // Two clients per database, all at once: the role does not exist yet, so every one of them
    // tries to create it, then to set its password, then to grant.
    const clients = [...urls, ...urls].map((url) =>
      postgres(url, { max: 1, onnotice: () => undefined }),
    );
    try {
      const results = await Promise.allSettled(
        clients.map((client) => ensureAppRole(client, { role, password: 'p'.repeat(20) })),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
    const [created] = await admin`
      select count(*)::int as n, bool_and(rolcanlogin) as login from pg_roles where rolname = ${role}`;
    expect(created).toEqual({ n: 1, login: true });
    for (const url of urls) {
      expect(await privileges(url)).toEqual({
        audit_insert: true,
        audit_insert_id: false,
        audit_delete: false,
        departments_select: true,
        tenants_select: false,
      });
    }
  });

  it('takes back privileges granted by hand, on the next run', async () => {
    const url = urls[0] ?? '';
    const client = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      await client.unsafe(`grant delete on audit_events to "${role}"`);
      await client.unsafe(`grant insert (id) on audit_events to "${role}"`);
      await client.unsafe(`grant select on tenants to "${role}"`);
      await client.unsafe(`revoke select on departments from "${role}"`);
      expect(await privileges(url)).toMatchObject({
        audit_delete: true,
        audit_insert_id: true,
        tenants_select: true,
      });
      await ensureAppRole(client, { role });
    } finally {
      await client.end();
    }
    expect(await privileges(url)).toEqual({
      audit_insert: true,
      audit_insert_id: false,
      audit_delete: false,
      departments_select: true,
      tenants_select: false,
    });
  });

  it('keeps the login and password when run without a password', async () => {
    const client = postgres(urls[1] ?? '', { max: 1, onnotice: () => undefined });
    const verifier = () =>
      admin<Array<{ v: string }>>`select rolpassword as v from pg_authid where rolname = ${role}`;
    try {
      const [before] = await verifier();
      await ensureAppRole(client, { role });
      expect(await verifier()).toEqual([before]);
    } finally {
      await client.end();
    }
  });

  it('refuses a role that could rewrite the trail, and grants it nothing more', async () => {
    const client = postgres(urls[2] ?? '', { max: 1, onnotice: () => undefined });
    const [owner] = await client<Array<{ name: string }>>`
      select tableowner as name from pg_tables where tablename = 'audit_events'`;
    try {
      for (const [grant, undo, problem] of [
        [`alter role "${role}" createrole`, `alter role "${role}" nocreaterole`, /CREATEROLE/],
        [`alter role "${role}" bypassrls`, `alter role "${role}" nobypassrls`, /BYPASSRLS/],
        [
          `grant "${owner?.name ?? ''}" to "${role}"`,
          `revoke "${owner?.name ?? ''}" from "${role}"`,
          /a member of the owner of audit_events/,
        ],
        [
          `create table public.owned_by_app (id int); alter table public.owned_by_app owner to "${role}"`,
          'drop table public.owned_by_app',
          /it owns objects/,
        ],
      ] as const) {
        await client.unsafe(grant).simple();
        await client.unsafe(`revoke insert on audit_events from "${role}"`);
        try {
          const refused = await ensureAppRole(client, { role }).catch((error: unknown) => error);
          expect(refused).toBeInstanceOf(AppRoleError);
          expect((refused as Error).message).toMatch(problem);
          // Refused before the grants: the privilege taken away stays away. (Read from the
          // columns' ACLs: a member of the owner holds every privilege through the owner.)
          const [acl] = await client<Array<{ granted: boolean }>>`
            select exists (select from pg_attribute c, aclexplode(c.attacl) a
              where c.attrelid = 'audit_events'::regclass and a.privilege_type = 'INSERT'
                and a.grantee = (select oid from pg_roles where rolname = ${role})) as granted`;
          expect(acl?.granted).toBe(false);
        } finally {
          await client.unsafe(undo).simple();
        }
      }
    } finally {
      await client.end();
    }
  });
});
