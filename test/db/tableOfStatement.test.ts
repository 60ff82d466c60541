import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TABLE_LABELS, tableOfStatement } from '../../src/db/tableOfStatement.js';

const MIGRATIONS = new URL('../../drizzle/', import.meta.url);

/** Every statement of the committed migrations, as drizzle's migrator splits them. */
function migrationStatements(): string[] {
  return readdirSync(MIGRATIONS)
    .filter((file) => file.endsWith('.sql'))
    .flatMap((file) =>
      readFileSync(new URL(file, MIGRATIONS), 'utf8').split('--> statement-breakpoint'),
    )
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

describe('tableOfStatement', () => {
  it('names the first table a statement reads or writes', () => {
    expect(tableOfStatement('select "id" from "patients" where "tenant_id" = $1')).toBe('patients');
    expect(tableOfStatement('insert into "medical_records" ("id") values ($1)')).toBe(
      'medical_records',
    );
    expect(tableOfStatement('update "studies" set "report" = $1')).toBe('studies');
    expect(tableOfStatement('delete from "care_team" where "patient_id" = $1')).toBe('care_team');
    expect(
      tableOfStatement(
        'select "care_team"."patient_id", "doctors"."id" from "care_team" inner join "doctors" on true',
      ),
    ).toBe('care_team');
  });

  it('names the audit table of the audit INSERT', () => {
    expect(
      tableOfStatement(
        'insert into "audit_events" (tenant_id) select tenant_id from json_to_recordset($1::text::json) as r(tenant_id text)',
      ),
    ).toBe('audit_events');
  });

  it('reads unquoted names as Postgres folds them, and quoted ones as written', () => {
    expect(tableOfStatement('SELECT * FROM Patients WHERE id = $1')).toBe('patients');
    expect(tableOfStatement('select * from "Patients"')).toBe('other');
  });

  it('names a table qualified by the public schema, and no table of another schema', () => {
    expect(tableOfStatement('select * from "public"."doctors"')).toBe('doctors');
    expect(tableOfStatement('select * from public . departments')).toBe('departments');
    expect(tableOfStatement('select id, hash from "drizzle"."__drizzle_migrations"')).toBe('other');
    expect(tableOfStatement('insert into "drizzle"."__drizzle_migrations" values ($1)')).toBe(
      'other',
    );
  });

  it('passes over the names of common table expressions and functions', () => {
    expect(
      tableOfStatement(
        'with recent as (select * from "audit_events" where occurred_at > $1) select count(*) from recent',
      ),
    ).toBe('audit_events');
    expect(
      tableOfStatement(
        'with ids as (select unnest($1::uuid[]) as id) select * from ids join "patients" using (id)',
      ),
    ).toBe('patients');
    expect(tableOfStatement('select * from json_to_recordset($1) as r(id text)')).toBe('other');
    expect(tableOfStatement('select extract(year from "born_at") from "patients"')).toBe(
      'patients',
    );
  });

  it('ignores tables named in comments, string literals and dollar-quoted bodies', () => {
    expect(tableOfStatement('-- select * from patients\nselect 1')).toBe('other');
    expect(tableOfStatement('/* update "doctors" */ select 1 from "tenants"')).toBe('tenants');
    expect(tableOfStatement("select 'from patients', 'it''s from doctors' from \"studies\"")).toBe(
      'studies',
    );
    expect(tableOfStatement('do $$ begin update patients set name = null; end $$')).toBe('other');
    expect(tableOfStatement('do $body$ begin delete from studies; end $body$')).toBe('other');
  });

  it('passes over the keywords that follow ON UPDATE and BEFORE UPDATE', () => {
    expect(
      tableOfStatement(
        'ALTER TABLE "doctors" ADD CONSTRAINT "fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action',
      ),
    ).toBe('other');
    expect(
      tableOfStatement(
        'CREATE TRIGGER t BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION f()',
      ),
    ).toBe('other');
  });

  it('counts statements without a table as other', () => {
    expect(tableOfStatement('select 1')).toBe('other');
    expect(tableOfStatement('create schema if not exists "drizzle"')).toBe('other');
    expect(tableOfStatement('')).toBe('other');
  });

  it('labels every statement of the committed migrations with a label of the bounded set', () => {
    const statements = migrationStatements();
    expect(statements.length).toBeGreaterThan(40);
    const labels = new Set(statements.map(tableOfStatement));
    for (const label of labels) expect(TABLE_LABELS).toContain(label);
  });

  it('allows the service tables, other and migration as labels, and nothing else', () => {
    expect([...TABLE_LABELS].sort()).toEqual([
      'audit_events',
      'cache_invalidations',
      'cache_scope_floors',
      'care_team',
      'departments',
      'doctors',
      'medical_records',
      'migration',
      'other',
      'patients',
      'studies',
      'tenants',
    ]);
  });
});
