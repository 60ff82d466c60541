/**
 * `npm run dev:users -- --tenant t1 [--limit N]`: a tenant's doctors and patients, with the ids
 * a development token needs. Refused when NODE_ENV=production.
 */
import { isTenantId, TENANT_ID_RULE } from '../auth/claimRules.js';
import { loadConfig, loadEnvironment, type Config } from '../config.js';
import { createDatabase, type DatabaseHandle } from '../db/client.js';
import { createLogger } from '../logger.js';
import { prepareEmbeddedDatabase } from '../startup/prepareEmbeddedDatabase.js';
import { SNAPSHOT_CACHE_DIR } from '../startup/seedSnapshot.js';
import { createStartupSteps } from '../startup/startupSteps.js';
import { listTenantIds, listTenantUsers } from '../db/queries/listTenantUsers.js';
import { parseFlags, runCli, UsageError } from './cliArgs.js';
import { formatTenantUsers } from './formatTenantUsers.js';

const USAGE = `Lists a tenant's doctors and patients, for development: ids, names, departments, care teams.

usage: npm run dev:users -- --tenant TENANT [--limit N]

  --tenant    the tenant id, ${TENANT_ID_RULE}
  --limit     how many doctors and how many patients to list, 1-1000 (default 20)
  --help      prints this and exits

With DATABASE_URL, it reads that database. Without it, it opens an embedded database of its
own, migrated and seeded exactly as \`npm start\` seeds its own (EMBEDDED_SEED_PATIENTS, the
same fixed seed), so the ids are those of a running embedded server; what that server has
changed since it started is not seen (its database lives inside its process).
Refused when NODE_ENV=production.
`;

runCli('dev:users', async () => {
  const values = parseFlags(process.argv.slice(2), {
    help: { type: 'boolean', short: 'h' },
    tenant: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  // A list of patients is PHI; this tool is for synthetic development data only.
  if (loadEnvironment() === 'production') {
    throw new UsageError('refused when NODE_ENV=production: it lists patients');
  }
  const { tenant } = values;
  if (tenant === undefined) throw new UsageError('--tenant is required');
  if (!isTenantId(tenant)) {
    throw new UsageError(
      `invalid tenant ${JSON.stringify(tenant)}: a tenant id is ${TENANT_ID_RULE}`,
    );
  }
  const limit = limitOf(values.limit);
  const config = loadConfig();
  const database =
    config.databaseUrl === undefined
      ? await openEmbedded(config)
      : await createDatabase({ url: config.databaseUrl, poolMax: 1 });
  try {
    const known = await listTenantIds(database.db);
    if (!known.includes(tenant)) {
      throw new UsageError(
        `no tenant ${JSON.stringify(tenant)} in this database (tenants: ${known.join(', ') || 'none'})`,
      );
    }
    const users = await listTenantUsers(database.db, tenant, limit);
    process.stdout.write(formatTenantUsers(tenant, users));
  } finally {
    await database.close();
  }
});

function limitOf(value: string | undefined): number {
  if (value === undefined) return 20;
  const limit = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 1000)) {
    throw new UsageError(`--limit ${JSON.stringify(value)} is not a whole number from 1 to 1000`);
  }
  return limit;
}

/**
 * The embedded database `npm start` would open: its seeded snapshot when there is one (the
 * same rows, so the same ids), seeded the same way otherwise.
 */
async function openEmbedded(config: Config): Promise<DatabaseHandle> {
  process.stderr.write(
    `DATABASE_URL is unset: opening an embedded database seeded as \`npm start\` seeds it (${String(config.embeddedSeedPatients)} patients)…\n`,
  );
  const logger = createLogger({ level: 'warn' });
  return prepareEmbeddedDatabase({
    patients: config.embeddedSeedPatients,
    snapshotDir: config.embeddedSnapshotDir ?? SNAPSHOT_CACHE_DIR,
    onStatement: () => undefined,
    steps: createStartupSteps(logger),
    logger,
  });
}
