import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { queryRows } from '../support/queryRows.js';
import { createEmptyDatabase } from '../support/testDatabase.js';

const TABLES = [
  'tenants',
  'departments',
  'doctors',
  'patients',
  'care_team',
  'medical_records',
  'studies',
];

async function digest(db: Database): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of TABLES) {
    // tenants.created_at is the insertion time, the one column not drawn from the seed.
    const source = table === 'tenants' ? 'select id, name from tenants' : `select * from ${table}`;
    const [row] = await queryRows<{ digest: string }>(
      db,
      sql.raw(
        `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from (${source}) t`,
      ),
    );
    result[table] = row?.digest ?? '';
  }
  return result;
}

describe('seedDatabase', () => {
  it('writes the same rows for the same seed, and different rows for another', async () => {
    const [a, b, c] = await Promise.all([
      createEmptyDatabase(),
      createEmptyDatabase(),
      createEmptyDatabase(),
    ]);
    try {
      const summary = await seedDatabase(a.db, { patients: 12, seed: 11 });
      await seedDatabase(b.db, { patients: 12, seed: 11 });
      await seedDatabase(c.db, { patients: 12, seed: 12 });
      expect(await digest(a.db)).toEqual(await digest(b.db));
      expect((await digest(a.db)).patients).not.toBe((await digest(c.db)).patients);
      expect(summary).toMatchObject({ tenants: 2, departments: 20, doctors: 120, patients: 12 });
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('gives each patient 10–30 records, 1–5 studies and a care team of 2–4', async () => {
    const handle = await createEmptyDatabase();
    try {
      await seedDatabase(handle.db, { patients: 30, seed: 3 });
      const [row] = await queryRows<
        Record<'min_r' | 'max_r' | 'min_s' | 'max_s' | 'min_t' | 'max_t', number>
      >(
        handle.db,
        sql`
          select min(r)::int as min_r, max(r)::int as max_r, min(s)::int as min_s, max(s)::int as max_s,
                 min(t)::int as min_t, max(t)::int as max_t
          from (select p.id,
                  (select count(*) from medical_records m where m.patient_id = p.id) as r,
                  (select count(*) from studies s where s.patient_id = p.id) as s,
                  (select count(*) from care_team c where c.patient_id = p.id) as t
                from patients p) x`,
      );
      if (row === undefined) throw new Error('no statistics row');
      const { min_r, max_r, min_s, max_s, min_t, max_t } = row;
      expect(min_r).toBeGreaterThanOrEqual(10);
      expect(max_r).toBeLessThanOrEqual(30);
      expect(min_s).toBeGreaterThanOrEqual(1);
      expect(max_s).toBeLessThanOrEqual(5);
      expect(min_t).toBeGreaterThanOrEqual(2);
      expect(max_t).toBeLessThanOrEqual(4);
    } finally {
      await handle.close();
    }
  });
});
