import type { Principal } from '../auth/principal.js';
import { ErrorCode } from '../errors.js';
import type { GateRefusal } from './persistedQueries.js';

/** What a request's `X-Break-Glass` header amounts to: a reason to audit, or a refusal. */
export type BreakGlassCheck =
  | { readonly reason: string | undefined; readonly refusal?: undefined }
  | { readonly reason?: undefined; readonly refusal: GateRefusal };

const HEADER = 'x-break-glass';
const MIN_CODE_POINTS = 10;
const MAX_CODE_POINTS = 500;
// UTF-8 spends at most four bytes on a code point. Checked before decoding, so an oversized
// value is refused without being decoded.
const MAX_BYTES = 4 * MAX_CODE_POINTS;
// RFC 8187's ext-value, `UTF-8'<language>'<percent-encoded bytes>`, for clients that cannot send
// raw UTF-8 in a header (a browser's fetch refuses anything past U+00FF). Any visible ASCII but
// `%` passes unencoded, so that encodeURIComponent's output (which keeps `'()*`) is accepted.
const EXT_VALUE_PREFIX = /^UTF-8'/i;
const EXT_VALUE = /^UTF-8'[A-Za-z0-9-]{0,35}'((?:%[0-9A-Fa-f]{2}|[!-$&-~])*)$/i;
// The same form with any other charset (RFC 8187's mime-charset, then a language tag): only
// UTF-8 is read, so such a value is refused, never stored as typed. A typed reason can begin
// like this ("O'Day's …"), so the form counts only with an empty language (`ISO-8859-1''…`) or
// when no space follows, as in a percent-encoded value.
const OTHER_EXT_VALUE = /^[!#$%&+\-^_`{}~A-Za-z0-9]{1,40}'(?:'|[A-Za-z0-9-]{1,35}'[^ \t]*$)/;
// Controls (TAB included: it aligns columns in a report, and no one types it in a reason),
// format characters (bidi overrides, zero-width characters, BOM), surrogates, private use,
// unassigned code points and noncharacters, line and paragraph separators (a line break by
// another name), and every code point that renders blank but is not white space: whatever
// Unicode says to render invisibly (the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0 are
// letters to \p{L}, so they would pass for words), and the symbols that draw nothing without
// being Default_Ignorable, U+2800 BRAILLE PATTERN BLANK and U+1D159 MUSICAL SYMBOL NULL
// NOTEHEAD. White space (U+00A0, U+2000–U+200A, U+3000…) is allowed: it is never a letter, and
// a run of it counts as one toward the minimum.
const NOT_PRINTABLE =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/u;
// Three letters in a row, each with its combining marks (Devanagari writes vowels as marks).
const WORD = /(?:\p{L}\p{M}*){3}/u;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads and checks a request's `X-Break-Glass` header, a clinician's reason for emergency access
 * to a patient outside their care team.
 *
 * The reason is the header's bytes decoded as UTF-8 (Node hands them over as a Latin-1 string),
 * or, in RFC 8187 form (`UTF-8''Notfall%3A%20…`), its percent-decoded bytes. It is kept exactly
 * as given (the HTTP parser has trimmed its ends; nothing is collapsed or normalised, not even
 * to NFC, which would change the bytes the clinician's device sent), so the audit trail holds
 * what the clinician wrote. The RFC 8187 form with another charset than UTF-8 is refused. It
 * must be printable text: no controls, format or invisible characters (blank symbols such as
 * U+2800 included), surrogates, private-use or unassigned code points. It has 10 to 500 code
 * points (a run of white space counts as one toward the minimum, so padding is no reason), at
 * most 2000 bytes, and three letters of any script in a row.
 *
 * @param rawHeaders the request's header names and values, alternating, as Node's `rawHeaders`
 * @param principal the authenticated caller
 * @returns the reason (undefined when the header is absent), or a refusal: 403 for a caller who
 *   is not a clinician, 400 `BREAK_GLASS_REASON_REQUIRED` for a missing, repeated, undecodable
 *   or unprintable reason. A refusal's message never echoes the reason. Never throws.
 */
export function checkBreakGlass(
  rawHeaders: readonly string[],
  principal: Principal | undefined,
): BreakGlassCheck {
  const values = rawHeaders.filter(
    (_value, index) => index % 2 === 1 && rawHeaders[index - 1]?.toLowerCase() === HEADER,
  );
  const [value] = values;
  if (value === undefined) return { reason: undefined };
  if (principal?.role !== 'clinician') {
    return {
      refusal: {
        status: 403,
        code: ErrorCode.Forbidden,
        message: 'Break-glass access is for clinicians',
      },
    };
  }
  // Node would join repeated headers with ", " into a reason nobody wrote.
  if (values.length > 1) return refuse('X-Break-Glass must be sent once');
  const reason = decode(value);
  if (reason === undefined) {
    return refuse("X-Break-Glass must be UTF-8 text, raw or as UTF-8''<percent-encoded>");
  }
  if (NOT_PRINTABLE.test(reason)) {
    return refuse('X-Break-Glass must be printable text, without control or invisible characters');
  }
  const visible = reason.replace(/\p{White_Space}+/gu, ' ').replace(/^ | $/g, '');
  if (
    codePoints(visible) < MIN_CODE_POINTS ||
    codePoints(reason) > MAX_CODE_POINTS ||
    !WORD.test(reason)
  ) {
    return refuse(
      `X-Break-Glass needs a reason of ${MIN_CODE_POINTS} to ${MAX_CODE_POINTS} characters, with words in it`,
    );
  }
  return { reason };
}

function refuse(message: string): BreakGlassCheck {
  return { refusal: { status: 400, code: ErrorCode.BreakGlassReasonRequired, message } };
}

/** The header's text, or undefined when its bytes are too many or not UTF-8. */
function decode(value: string): string | undefined {
  // Node's parser yields one char per byte; anything wider did not come off the wire as bytes.
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.toString('latin1') !== value) return undefined;
  let reasonBytes: Uint8Array = bytes;
  if (EXT_VALUE_PREFIX.test(value)) {
    // A value that announces the encoded form and breaks it is refused, not stored as typed.
    const encoded = value.length <= 3 * MAX_BYTES + 64 ? EXT_VALUE.exec(value)?.[1] : undefined;
    if (encoded === undefined) return undefined;
    reasonBytes = percentDecode(encoded);
  } else if (OTHER_EXT_VALUE.test(value)) {
    return undefined;
  }
  if (reasonBytes.length > MAX_BYTES) return undefined;
  try {
    return STRICT_UTF8.decode(reasonBytes);
  } catch {
    return undefined;
  }
}

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index++) {
    if (text[index] === '%') {
      bytes.push(Number.parseInt(text.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(text.charCodeAt(index));
  }
  return Buffer.from(bytes);
}

function codePoints(text: string): number {
  return Array.from(text).length;
}
