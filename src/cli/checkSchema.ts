/**
 * `npm run check:schema [-- --schema DIR]`: prints the effective cache policy of every field
 * and exits 1 when the schema breaks a cache rule (see policy/checkSchema.ts).
 */
import { buildSchema } from 'graphql';
import { parseArgs } from 'node:util';
import { loadTypeDefs, SCHEMA_DIR } from '../graphql/loadTypeDefs.js';
import { checkSchema, formatPolicyTable } from '../policy/checkSchema.js';

const { values } = parseArgs({ options: { schema: { type: 'string', default: SCHEMA_DIR } } });
const { rows, problems } = checkSchema(buildSchema(loadTypeDefs(values.schema)));
process.stdout.write(`${formatPolicyTable(rows)}\n`);
if (problems.length > 0) {
  process.stderr.write(
    `\ncheck:schema found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write('\ncheck:schema: every cache rule holds\n');
