import { describe, expect, it } from 'vitest';
import { tableOfStatement } from '../../src/db/tableOfStatement.js';

describe('tableOfStatement', () => {
  it('names the first table a statement reads or writes', () => {
    expect(tableOfStatement('select "id" from "patients" where "tenant_id" = $1')).toBe('patients');
    expect(tableOfStatement('insert into "medical_records" ("id") values ($1)')).toBe(
      'medical_records',
    );
    expect(tableOfStatement('update "studies" set "report" = $1')).toBe('studies');
    expect(
      tableOfStatement(
        'select "care_team"."patient_id", "doctors"."id" from "care_team" inner join "doctors" on true',
      ),
    ).toBe('care_team');
  });

  it('counts statements without a table as other', () => {
    expect(tableOfStatement('select 1')).toBe('other');
  });
});
