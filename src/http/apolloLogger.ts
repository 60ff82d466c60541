import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import { describeError, type Logger } from '../logger.js';

/** The logger Apollo Server writes to. */
export type ApolloLogger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;

// The fixed openings of the lines Apollo Server 5 logs. Most go on to quote an error
// (`Unexpected error processing request: ${error}`), whose message may hold a statement's
// parameters or a request's variables, so only the opening is ever written.
const KNOWN_OPENINGS: ReadonlyArray<string> = [
  'Unexpected error processing request',
  'contextCreationDidFail hook threw',
  'invalidRequestWasReceived hook threw',
  'startupDidFail hook threw',
  'An error occurred during Apollo Server startup',
  'An error occurred while attempting to read from the documentStore',
  'Could not store validated document',
  'A GraphQL operation was received during server shutdown',
  "An error was thrown from an 'onSchemaLoadOrUpdate' listener",
  'stop() threw during',
  'Landing page `html` function threw',
  'The `status400ForVariableCoercionErrors',
];

const WITHHELD = 'Apollo Server logged a message that is withheld, as it may quote an error';

/**
 * Adapts the service's logger for Apollo Server. Apollo's messages are strings that often
 * interpolate an error, or the Error itself: this writes the fixed opening of a known message,
 * an Error as its class and code, and anything else as a fixed line, at the level Apollo chose.
 */
export function createApolloLogger(logger: Logger): ApolloLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message?: unknown): void => {
      if (message instanceof Error) {
        logger[level]({ source: 'apollo', err: describeError(message) }, 'Apollo Server error');
        return;
      }
      const opening =
        typeof message === 'string'
          ? KNOWN_OPENINGS.find((known) => message.startsWith(known))
          : undefined;
      logger[level]({ source: 'apollo' }, opening ?? WITHHELD);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
