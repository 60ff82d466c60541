import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config.js';
import { firstRepeatedFlag } from './repeatedFlag.js';

/** A command line the tool cannot run: printed as one line, with a hint, and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, with no positionals: an unknown flag, a flag without its value
 * a flag given twice or a stray argument is a UsageError in a sentence, rather than Node's multi-line TypeError.
 *
 * @throws UsageError naming the flag or argument at fault.
 */
export function parseFlags<T extends Options>(
  args: ReadonlyArray<string>,
  options: T,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>['values'] {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
  const repeated = firstRepeatedFlag(parsed.tokens);
  if (repeated !== undefined) throw new UsageError(`${repeated} is given more than once`);
  return parsed.values;
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  // Node names a flag with a short alias as '-h, --help'; the long name is the one to show.
  const flag = quoted.split(/[ ,]+/).find((part) => part.startsWith('--')) ?? quoted;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('does not take an argument')
        ? `${flag} takes no value`
        : `${flag} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)} (every value follows its flag, as in --tenant t1)`;
    default:
      return 'invalid command line';
  }
}

/**
 * Runs a command-line tool's body: a UsageError prints its message and a pointer to `--help`
 * on stderr and exits 2, as does an invalid environment; any other failure prints one line (never a stack trace) and exits 1.
 */
export function runCli(command: string, body: () => Promise<void>): void {
  body().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${command}: ${error.message}\n`);
      process.stderr.write(`Run \`npm run ${command} -- --help\` for usage.\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${command}: invalid configuration: ${error.problems.join('; ')}\n`);
      process.exit(2);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${command} failed: ${message.split('\n').join(' ')}\n`);
    process.exit(1);
  });
}
