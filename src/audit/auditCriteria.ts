import type { AuditCriteria } from '../db/queries/auditEventPage.js';
import { auditActionEnum, type AuditEventRow } from '../db/tables/index.js';
import { BadUserInputError } from '../errors.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { parseInstant } from '../graphql/instants.js';

/** The criteria as a caller spells them: the API's filter input, or the export's flags. */
export interface AuditCriteriaInput {
  readonly from?: string | null | undefined;
  readonly to?: string | null | undefined;
  readonly patientId?: string | null | undefined;
  readonly actorId?: string | null | undefined;
  /** A value of the `audit_action` enum, in either case (`read`, `BREAK_GLASS`). */
  readonly action?: string | null | undefined;
  readonly resourceType?: string | null | undefined;
}

/** The longest actor id or resource type a filter takes; the trail holds none longer. */
const MAX_NAME_LENGTH = 200;

const ACTIONS: ReadonlySet<string> = new Set(auditActionEnum.enumValues);

/**
 * Validates criteria and brings them to the form the query takes: instants as UTC to the
 * microsecond, ids in lower case, actions as the database spells them.
 *
 * @param nameOf how the caller names a criterion in messages (`filter.from`, `--from`)
 * @throws BadUserInputError naming the first invalid criterion, never its value
 */
export function parseAuditCriteria(
  input: AuditCriteriaInput,
  nameOf: (criterion: keyof AuditCriteriaInput) => string,
): AuditCriteria {
  const invalid = (criterion: keyof AuditCriteriaInput, why: string) =>
    new BadUserInputError(`Invalid ${nameOf(criterion)}: ${why}`, nameOf(criterion));
  const instant = (criterion: 'from' | 'to') => {
    const text = input[criterion];
    if (text === null || text === undefined) return undefined;
    const parsed = parseInstant(text);
    if (parsed === undefined) {
      throw invalid(
        criterion,
        'must be an ISO-8601 instant with an offset (2026-01-02T03:04:05Z) or a date (2026-01-02)',
      );
    }
    return parsed;
  };
  const name = (criterion: 'actorId' | 'resourceType') => {
    const text = input[criterion];
    if (text === null || text === undefined) return undefined;
    if (text.trim() === '' || text.length > MAX_NAME_LENGTH) {
      throw invalid(criterion, `must be 1 to ${String(MAX_NAME_LENGTH)} characters`);
    }
    return text;
  };

  const from = instant('from');
  const to = instant('to');
  if (from !== undefined && to !== undefined && from.micros >= to.micros) {
    throw invalid('to', `must be later than ${nameOf('from')}: the range is [from, to)`);
  }
  let patientId: string | undefined;
  if (input.patientId !== null && input.patientId !== undefined) {
    if (!isUuid(input.patientId)) throw invalid('patientId', 'must be a uuid');
    patientId = normalizeId(input.patientId);
  }
  let action: AuditEventRow['action'] | undefined;
  if (input.action !== null && input.action !== undefined) {
    const lower = input.action.toLowerCase();
    if (!ACTIONS.has(lower)) {
      throw invalid('action', `must be one of ${[...ACTIONS].join(', ')}`);
    }
    action = lower as AuditEventRow['action'];
  }
  return {
    from: from?.iso,
    to: to?.iso,
    patientId,
    actorId: name('actorId'),
    action,
    resourceType: name('resourceType'),
  };
}
