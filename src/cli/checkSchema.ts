/**
 * `npm run check:schema [-- --schema DIR]`: prints the effective cache policy of every field
 * and exits 1 when the schema breaks a cache rule (see policy/checkSchema.ts), or when some
 * field is covered by no access rule (see permissions/accessCoverage.ts).
 */
import { buildSchema } from 'graphql';
import { parseArgs } from 'node:util';
import { loadTypeDefs, SCHEMA_DIR } from '../graphql/loadTypeDefs.js';
import { checkAccessCoverage } from '../permissions/accessCoverage.js';
import { RULES } from '../permissions/permissions.js';
import { checkSchema, formatPolicyTable } from '../policy/checkSchema.js';
import { CachePolicyError, readCachePolicies } from '../policy/readCachePolicies.js';

const { values } = parseArgs({ options: { schema: { type: 'string', default: SCHEMA_DIR } } });
const schema = buildSchema(loadTypeDefs(values.schema));
const { rows, problems: cacheProblems } = checkSchema(schema);
const problems = [...cacheProblems];
try {
  problems.push(...checkAccessCoverage(schema, RULES, readCachePolicies(schema)));
} catch (error) {
  // A directive error is already among the problems; coverage needs the policies it breaks.
  if (!(error instanceof CachePolicyError)) throw error;
}
process.stdout.write(`${formatPolicyTable(rows)}\n`);
if (problems.length > 0) {
  process.stderr.write(
    `\ncheck:schema found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  '\ncheck:schema: every cache rule holds, and every field has an access rule\n',
);
