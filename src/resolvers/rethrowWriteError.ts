import { BadUserInputError, ConflictError } from '../errors.js';
import { AuditRowError } from '../db/mutations/insertAuditRow.js';
import { FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, pgErrorCode } from '../db/pgErrorCode.js';

/**
 * Turns the constraint errors a write can hit into coded client errors. The database's own
 * message quotes the offending values, so it is never passed on.
 */
export function rethrowWriteError(referenceArgument: string) {
  return (error: unknown): never => {
    // A constraint the audit row broke is the audit trail's failure, not the client's input.
    if (error instanceof AuditRowError) throw error;
    switch (pgErrorCode(error)) {
      case FOREIGN_KEY_VIOLATION:
        throw new BadUserInputError(
          `Invalid ${referenceArgument}: no such entity in this tenant`,
          referenceArgument,
        );
      case UNIQUE_VIOLATION:
        throw new ConflictError('The change conflicts with existing data');
      case undefined:
      default:
        throw error;
    }
  };
}
