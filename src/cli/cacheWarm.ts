/**
 * `npm run cache:warm`: one warming pass by hand (SPEC §5), with the service's configuration:
 * reference data of every tenant, and the hot set of tenants in CACHE_WARM_PHI_TENANTS. It
 * prints what it wrote by type; a progress bar on a terminal. It runs whoever holds the lease:
 * a pass is idempotent, and rate-limited like the warmer's.
 */
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createL2 } from '../cache/createL2.js';
import { deriveEntryPolicies } from '../cache/entryPolicies.js';
import { startInvalidationFeed } from '../cache/invalidationFeed.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';
import { createSchema } from '../graphql/createSchema.js';
import { loadTypeDefs } from '../graphql/loadTypeDefs.js';
import { createLogger, describeError } from '../logger.js';
import { passSettings } from '../warming/warmer.js';
import { createWarmMetrics } from '../warming/warmMetrics.js';
import { runWarmPass } from '../warming/warmPass.js';

const USAGE = 'usage: npm run cache:warm [-- --help]\n';

try {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(
      `${USAGE}\nRuns one warming pass against DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES).\n` +
        'Reference data is warmed for every tenant; PHI only for CACHE_WARM_PHI_TENANTS.\n',
    );
    process.exit(0);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(2);
}
if (config.databaseUrl === undefined) {
  process.stderr.write(
    'cache:warm needs DATABASE_URL: the embedded database lives inside `npm start`, which warms itself\n',
  );
  process.exit(2);
}
if (config.redisUrl === undefined && config.redisClusterNodes === undefined) {
  process.stderr.write(
    'cache:warm needs REDIS_URL or REDIS_CLUSTER_NODES: an in-process L2 would end with this command\n',
  );
  process.exit(2);
}

// Quiet by default: the summary says what happened; LOG_LEVEL=warn or lower says why.
const logger = createLogger({ level: config.logLevel === 'info' ? 'fatal' : config.logLevel });
const registry = new Registry();
const database = await createDatabase({ url: config.databaseUrl, poolMax: 2 });
const typeDefs = loadTypeDefs();
const { policies } = createSchema(typeDefs);
const l2 = createL2({ config, typeDefs, registry, logger });
let exitCode = 1;
try {
  await l2.store.connect();
  // The invalidations committed lately, so that no generation they superseded is written under.
  const feed = await startInvalidationFeed({ database, l2, logger });
  if (feed !== undefined) l2.useFreshness(() => feed.fresh);
  const bar = process.stdout.isTTY
    ? new SingleBar(
        { format: 'warming {bar} {value}/{total} ids | {duration}s' },
        Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const report = await runWarmPass({
    ...passSettings({
      config: config.warming,
      database,
      l2,
      entryPolicies: deriveEntryPolicies(policies),
      logger,
      metrics: createWarmMetrics(registry),
    }),
    onProgress: (done, total) => {
      if (bar === undefined) return;
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
  });
  bar?.stop();
  await feed?.close();
  const lines = Object.entries(report.entries)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([type, count]) => `  ${type.padEnd(20)} ${String(count).padStart(7)}`);
  process.stdout.write(
    `warming pass ${report.result} in ${(report.durationMs / 1000).toFixed(1)}s: ` +
      `${report.statements} SQL statements, ${report.phiRead} PHI entities read (audited)\n` +
      `entries written by type:\n${lines.length > 0 ? lines.join('\n') : report.result === 'ok' ? '  (none: everything was fresh)' : '  (none)'}\n`,
  );
  exitCode = report.result === 'ok' ? 0 : 1;
} catch (error) {
  // The class and driver code only: a driver's message can quote a statement's parameters.
  const { type, code } = describeError(error) as { type?: string; code?: string };
  process.stderr.write(
    `cache:warm failed: ${type ?? 'Error'}${code === undefined ? '' : ` (${code})`}: is the database reachable?\n`,
  );
} finally {
  await l2.close();
  await database.close();
}
process.exit(exitCode);
