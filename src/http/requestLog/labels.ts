/**
 * The values a request log line takes from what the client sent. Each is an identifier the
 * client chose (an operation name, a client name), bounded in length and limited to the
 * characters such identifiers use, so that nothing else a client sends can ride along.
 */

const MAX_LABEL_LENGTH = 64;
// A GraphQL Name: what the parser accepts as an operation name.
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const NOT_LABEL = /[^\w.@/+:-]/g;

/**
 * An operation name for the log: a GraphQL Name, cut to 64 characters; null when anonymous
 * or when what the client sent is no name (a `operationName` that does not parse as one).
 */
export function operationNameOf(name: unknown): string | null {
  if (typeof name !== 'string' || !NAME.test(name)) return null;
  return name.length > MAX_LABEL_LENGTH ? `${name.slice(0, MAX_LABEL_LENGTH - 1)}…` : name;
}

/** An error code for the log, when it has the shape of one (upper-case, underscores). */
export function errorCodeOf(code: unknown): string | undefined {
  return typeof code === 'string' && CODE.test(code) ? code : undefined;
}

/**
 * A client's name or version header for the log: letters, digits and `_ . @ / + : -` only
 * (anything else becomes `_`), at most 64 characters; undefined when absent or empty.
 */
export function clientLabelOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value === '') return undefined;
  return value.slice(0, MAX_LABEL_LENGTH).replace(NOT_LABEL, '_');
}
