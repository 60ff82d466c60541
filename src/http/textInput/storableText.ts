// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True for text Postgres stores exactly as given. It refuses U+0000 in text (SQLSTATE 22P05
 * or 22021), and a lone UTF-16 surrogate has no UTF-8 form: Node writes it as U+FFFD, so the
 * row would silently differ from what the client sent.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}
