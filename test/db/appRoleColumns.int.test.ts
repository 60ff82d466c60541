import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureAppRole } from '../../src/db/appRole.js';
import { APP_ROLE_NAME, createAppRoleDatabase } from '../support/appRoleDatabase.js';
import type { AppRoleDatabase } from '../support/appRoleDatabase.js';

/**
 * The columns the app role may write, written out here rather than imported, so that a change
 * to the grants in src/db/appRole.ts has to be made twice, on purpose. A table it may INSERT
 * into as a whole lists every column.
 */
const EXPECTED_COLUMN_PRIVILEGES: Record<string, string> = {
  'audit_events INSERT':
    'action,actor_id,actor_role,break_glass_reason,cache_source,client_address,entity_count,' +
    'operation_name,outcome,patient_id,request_id,resource_id,resource_type,tenant_id',
  'cache_invalidations INSERT': 'scopes,tenant_id',
  'cache_scope_floors INSERT': 'scope,seq,tenant_id',
  'cache_scope_floors UPDATE': 'seq',
  'care_team INSERT': 'doctor_id,patient_id,tenant_id',
  'doctors UPDATE': 'department_id,name,specialty,title',
  'medical_records INSERT':
    'author_id,diagnosis,diagnosis_code,id,notes,patient_id,recorded_at,tenant_id',
  'patients UPDATE': 'consent_granted,name,phone,primary_doctor_id,updated_at',
  'studies UPDATE': 'report,report_status',
};

const EVENT_COLUMNS = 'tenant_id, actor_id, actor_role, action, resource_type, request_id, outcome';
const EVENT_VALUES = `'t1', 'forger', 'clinician', 'read', 'Patient', 'forged', 'allowed'`;

/** Ways to give an audit row an id or a time of the writer's choosing. */
const FORGED_EVENTS: ReadonlyArray<readonly [string, string]> = [
  [
    'an id and a back-dated occurred_at',
    `insert into audit_events (id, occurred_at, ${EVENT_COLUMNS})
      values (999999, '2001-01-01', ${EVENT_VALUES})`,
  ],
  ['an id', `insert into audit_events (id, ${EVENT_COLUMNS}) values (999999, ${EVENT_VALUES})`],
  [
    'an occurred_at in the future',
    `insert into audit_events (occurred_at, ${EVENT_COLUMNS})
      values (now() + interval '1 day', ${EVENT_VALUES})`,
  ],
  [
    'DEFAULT named explicitly',
    `insert into audit_events (id, occurred_at, ${EVENT_COLUMNS})
      values (default, default, ${EVENT_VALUES})`,
  ],
  [
    'no column list, every column in table order',
    `insert into audit_events values (999999, '2001-01-01', 't1', 'forger', 'clinician', 'read',
      'Patient', null, null, null, null, 'forged', 'allowed', null, null)`,
  ],
  [
    'a copy of existing rows, ids and times included',
    'insert into audit_events select * from audit_events',
  ],
  [
    'a batch where one row forges its id',
    `insert into audit_events (id, ${EVENT_COLUMNS})
      select g, ${EVENT_VALUES} from generate_series(1, 1000) g`,
  ],
];

/** Updates that would re-key, move or back-date a row the API only ever edits. */
const FORGED_UPDATES: ReadonlyArray<string> = [
  `update patients set tenant_id = 't2'`,
  `update patients set id = gen_random_uuid()`,
  `update patients set mrn = 'M9999999', birth_date = '1900-01-01'`,
  `update studies set patient_id = (select id from patients limit 1)`,
  `update studies set started_at = '2001-01-01'`,
  `update studies set tenant_id = 't2', id = gen_random_uuid()`,
  `update doctors set tenant_id = 't2'`,
  `update doctors set id = gen_random_uuid()`,
];

interface Failure {
  code: unknown;
  message: string;
}

describe.skipIf(inject('postgresRun') === null)('the caregraph_app role, column by column', () => {
  let database: AppRoleDatabase;
  let owner: postgres.Sql;
  let app: postgres.Sql;

  beforeAll(async () => {
    database = await createAppRoleDatabase(2);
    owner = postgres(database.ownerUrl, { max: 1, onnotice: () => undefined });
    app = postgres(database.appUrl, { max: 4, onnotice: () => undefined });
  });
  afterAll(async () => {
    await app.end();
    await owner.end();
    await database.close();
  });

  /** Runs a statement as the app role, in a transaction rolled back whatever happens. */
  const attempt = (statement: string): Promise<Failure> =>
    app
      .begin(async (tx) => {
        await tx.unsafe(statement);
        throw Object.assign(new Error('succeeded'), { code: 'none' });
      })
      .catch((error: unknown) => ({
        code: (error as { code?: unknown }).code,
        message: error instanceof Error ? error.message : String(error),
      }));

  const columnPrivileges = async () => {
    const rows = await owner<Array<{ grant: string; columns: string }>>`
      select c.relname || ' ' || p.privilege as grant,
        string_agg(a.attname::text, ',' order by a.attname) as columns
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      cross join unnest(array['INSERT', 'UPDATE']) as p(privilege)
      where c.relkind = 'r' and has_column_privilege(${APP_ROLE_NAME}, c.oid, a.attnum, p.privilege)
      group by 1 order by 1`;
    return Object.fromEntries(rows.map((row) => [row.grant, row.columns]));
  };

  it('may insert and update only the columns the API writes', async () => {
    expect(await columnPrivileges()).toEqual(EXPECTED_COLUMN_PRIVILEGES);
  });

  it('refuses an audit row with an id or occurred_at of its choosing, however it is sent', async () => {
    const [before] = await owner<Array<{ n: number }>>`
      select count(*)::int as n from audit_events`;
    const outcomes = await Promise.all(FORGED_EVENTS.map(([, statement]) => attempt(statement)));
    for (const [index, outcome] of outcomes.entries()) {
      expect(outcome, FORGED_EVENTS[index]?.[0]).toMatchObject({
        code: '42501',
        message: expect.stringMatching(/permission denied/) as unknown,
      });
    }
    const [after] = await owner<Array<{ n: number; forged: number }>>`
      select count(*)::int as n,
        count(*) filter (where request_id = 'forged' or id = 999999)::int as forged
      from audit_events`;
    expect(after).toEqual({ n: before?.n, forged: 0 });
  });

  it('inserts the rows the API writes, each with the next id and the time of its insert', async () => {
    const [last] = await owner<
      Array<{ id: string | null }>
    >`select max(id) as id from audit_events`;
    const rows = await Promise.all(
      [1, 2, 3].map(() =>
        app.unsafe<Array<{ id: string; age: number }>>(
          `insert into audit_events (${EVENT_COLUMNS}) values (${EVENT_VALUES})
          returning id, extract(epoch from now() - occurred_at)::float8 as age`,
        ),
      ),
    );
    for (const [row] of rows) {
      expect(BigInt(row?.id ?? 0)).toBeGreaterThan(BigInt(last?.id ?? 0));
      expect(row?.age).toBe(0);
    }
  });

  it('refuses to re-key, move or back-date the rows it may update', async () => {
    const outcomes = await Promise.all(FORGED_UPDATES.map(attempt));
    for (const [index, outcome] of outcomes.entries()) {
      expect(outcome, FORGED_UPDATES[index]).toMatchObject({ code: '42501' });
    }
    // What the API updates still goes through.
    for (const statement of [
      `update patients set name = name, phone = phone, updated_at = now()`,
      `update studies set report_status = report_status, report = report`,
      `update doctors set title = title, department_id = department_id`,
      `select id from patients for update`,
    ]) {
      expect(await attempt(statement), statement).toMatchObject({ code: 'none' });
    }
  });

  it('takes back column privileges granted by hand, on the next migrate', async () => {
    await owner.unsafe(
      `grant insert (id, occurred_at) on audit_events to ${APP_ROLE_NAME};
      grant update (tenant_id, patient_id) on studies to ${APP_ROLE_NAME}`,
    );
    expect((await columnPrivileges())['audit_events INSERT']).toMatch(/\bid\b.*occurred_at/);
    await ensureAppRole(owner);
    expect(await columnPrivileges()).toEqual(EXPECTED_COLUMN_PRIVILEGES);
  });
});
