/** `npm run db:migrate`: applies the committed migrations in drizzle/ to DATABASE_URL. */
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';

const config = loadConfig();
if (config.databaseUrl === undefined) {
  process.stderr.write(
    'db:migrate needs DATABASE_URL (the embedded database migrates itself at start)\n',
  );
  process.exit(2);
}
const database = await createDatabase({ url: config.databaseUrl, poolMax: 1 });
try {
  await database.migrate();
  process.stdout.write('migrations applied\n');
} finally {
  await database.close();
}
