import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from '../db/databaseErrors.js';
import { AuditRowError } from '../db/mutations/insertAuditRow.js';
import {
  AuditUnavailableError,
  DatabaseUnavailableError,
  ErrorCode,
  isClientErrorCode,
} from '../errors.js';
import { describeError, type Logger } from '../logger.js';

const VARIABLE_VALUE_PATTERN = /^(Variable "\$[A-Za-z_][A-Za-z0-9_]*") got invalid value [\s\S]*$/;

/**
 * Creates Apollo's `formatError`. Coded errors reach the client with their code, message,
 * locations and path only; anything uncoded is logged (without its message, which may hold
 * PHI) and masked as INTERNAL_SERVER_ERROR. No stack trace ever leaves the server.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (isClientErrorCode(code)) {
      const argumentName = formatted.extensions?.argumentName;
      return {
        message: redactVariableValue(formatted.message),
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code, ...(typeof argumentName === 'string' ? { argumentName } : {}) },
      };
    }
    const original = unwrapResolverError(error);
    if (isDatabaseUnavailable(original)) {
      logger.warn({ err: describeError(original), path: formatted.path }, 'database unavailable');
      return {
        message: new DatabaseUnavailableError().message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.DatabaseUnavailable },
      };
    }
    if (original instanceof AuditRowError) {
      logger.error({ err: describeError(original), path: formatted.path }, 'audit row not written');
      return {
        message: new AuditUnavailableError().message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.AuditUnavailable },
      };
    }
    logger.error(
      { err: describeError(original), path: formatted.path },
      'unexpected error while serving a request',
    );
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.InternalServerError },
    };
  };
}

/**
 * graphql-js quotes the offending variable value in coercion errors. A value typed into the
 * wrong variable may be a name or a diagnosis, so only the variable's name is kept.
 */
function redactVariableValue(message: string): string {
  const match = VARIABLE_VALUE_PATTERN.exec(message);
  return match ? `${match[1] ?? 'Variable'} got an invalid value for its type.` : message;
}
