import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { TABLE_LABELS } from '../../src/db/tableOfStatement.js';
import { patients } from '../../src/db/tables/index.js';

// The embedded database on every run: what is tested is the labelling, which is the same code
// for both drivers, and a migration of its own must not touch the run's shared Postgres roles.
describe('the table label of each statement', () => {
  let labels: string[] = [];
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await createDatabase({
      url: undefined,
      onStatement: (table) => labels.push(table),
    });
  });
  afterAll(async () => {
    await database.close();
  });

  it('is migration for every statement migrate() runs', async () => {
    labels = [];
    await database.migrate();
    expect(labels.length).toBeGreaterThan(40);
    expect(new Set(labels)).toEqual(new Set(['migration']));
  });

  it('is the table of the statements the service runs, and always one of the bounded set', async () => {
    labels = [];
    await seedDatabase(database.db, { patients: 4 });
    await database.db.select({ id: patients.id }).from(patients).limit(1);
    await database.db.execute(sql`select 1`);
    expect(labels).toContain('patients');
    expect(labels).toContain('tenants');
    expect(labels.at(-2)).toBe('patients');
    expect(labels.at(-1)).toBe('other');
    for (const label of new Set(labels)) expect(TABLE_LABELS).toContain(label);
  });
});
