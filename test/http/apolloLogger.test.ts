import { randomBytes } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createApolloLogger } from '../../src/http/apolloLogger.js';
import { createLogger } from '../../src/logger.js';

const canary = () => `CANARY${randomBytes(6).toString('hex')}`;

function captured() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (s) => lines.push(s) } });
  return { apolloLogger: createApolloLogger(logger), text: () => lines.join('') };
}

describe('createApolloLogger', () => {
  it("writes the opening of Apollo's messages and never the error they quote", () => {
    const { apolloLogger, text } = captured();
    const value = canary();
    const error = new DrizzleQueryError('select 1 where name = $1', [value], new Error(value));
    apolloLogger.error(`Unexpected error processing request: ${String(error)}`);
    apolloLogger.warn(
      `An error occurred while attempting to read from the documentStore. ${value}`,
    );
    apolloLogger.warn(error);
    apolloLogger.info(`a message Apollo may add one day: ${value}`);
    expect(text()).not.toContain(value);
    expect(text()).toContain('"msg":"Unexpected error processing request"');
    expect(text()).toContain('"type":"DrizzleQueryError"');
    expect(text()).toContain('withheld');
  });

  it('keeps a failing hook of a real Apollo Server from logging what the failure said', async () => {
    const { apolloLogger, text } = captured();
    const value = canary();
    const apollo = new ApolloServer({
      typeDefs: 'type Query { hello(name: String): String }',
      resolvers: { Query: { hello: () => 'hi' } },
      logger: apolloLogger,
      plugins: [
        {
          requestDidStart: () =>
            Promise.resolve({
              willSendResponse: ({ request }) =>
                Promise.reject(
                  new DrizzleQueryError('insert ...', [request.variables?.name], new Error('x')),
                ),
            }),
        },
      ],
    });
    await apollo.start();
    try {
      await expect(
        apollo.executeOperation({
          query: 'query ($name: String) { hello(name: $name) }',
          variables: { name: value },
        }),
      ).rejects.toThrow('Internal server error');
    } finally {
      await apollo.stop();
    }
    expect(text()).toContain('Unexpected error processing request');
    expect(text()).not.toContain(value);
  });
});
