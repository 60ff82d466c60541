/**
 * `npm run db:migrate`: applies the committed migrations in drizzle/ to DATABASE_URL, as the
 * owner, then creates the `caregraph_app` role the API runs as and grants it its privileges.
 * With DATABASE_APP_PASSWORD set, that role may log in with it.
 */
import { loadConfig } from '../config.js';
import { APP_ROLE, AppRoleError } from '../db/appRole.js';
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
  await database.migrate({ appRolePassword: config.databaseAppPassword });
  process.stdout.write('migrations applied\n');
  process.stdout.write(
    config.databaseAppPassword === undefined
      ? `${APP_ROLE} granted; its login is unchanged (set DATABASE_APP_PASSWORD to let the API log in as it)\n`
      : `${APP_ROLE} granted; it logs in with DATABASE_APP_PASSWORD\n`,
  );
} catch (error) {
  // The operator's to fix, not a crash: say what is wrong with the role, without a stack.
  if (!(error instanceof AppRoleError)) throw error;
  process.stderr.write(`db:migrate: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
