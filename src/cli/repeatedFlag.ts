import type { parseArgs } from 'node:util';

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * The first flag given twice, or undefined. `parseArgs` keeps the last value of a repeated
 * flag, so `--role frontdesk --role admin` would sign an admin token without a word: every
 * tool refuses a repeated flag instead.
 */
export function firstRepeatedFlag(tokens: ReadonlyArray<Token>): string | undefined {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) return `--${token.name}`;
    seen.add(token.name);
  }
  return undefined;
}
