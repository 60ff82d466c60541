/** `npm run db:seed -- --patients N [--seed S]`: deterministic synthetic data for t1 and t2. */
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';
import { seedDatabase } from '../db/seed.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
  },
});
const patients = Number(values.patients);
const seed = Number(values.seed);
if (!Number.isInteger(patients) || patients < 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run db:seed -- --patients N [--seed S]\n');
  process.exit(2);
}

const config = loadConfig();
if (config.databaseUrl === undefined) {
  process.stderr.write(
    'db:seed needs DATABASE_URL (the embedded database seeds itself at start)\n',
  );
  process.exit(2);
}
const database = await createDatabase({ url: config.databaseUrl, poolMax: 2 });
const bar = new SingleBar(
  { format: 'seeding {bar} {value}/{total} patients | {duration}s' },
  Presets.shades_classic,
);
const started = performance.now();
try {
  await database.migrate();
  bar.start(patients, 0);
  const summary = await seedDatabase(database.db, {
    patients,
    seed,
    onProgress: (n) => {
      bar.update(n);
    },
  });
  bar.stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`seeded ${JSON.stringify(summary)} in ${seconds}s\n`);
} finally {
  bar.stop();
  await database.close();
}
