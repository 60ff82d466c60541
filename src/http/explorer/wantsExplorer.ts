/**
 * Whether a GET of the GraphQL endpoint asks for the explorer page rather than an operation: it
 * names no operation (no `query`, no persisted-query `extensions`, as mobile GETs send) and its
 * Accept header prefers HTML to JSON, as a browser's navigation does. An Accept of any type
 * (curl's) and anything that accepts JSON as much as HTML get GraphQL, as before.
 */
export function wantsExplorer(url: string, accept: string | undefined): boolean {
  const params = new URL(url, 'http://localhost').searchParams;
  if (params.has('query') || params.has('extensions')) return false;
  if (accept === undefined) return false;
  const ranges = parseAccept(accept);
  const html = qualityOf(ranges, 'text', 'html');
  const json = Math.max(
    qualityOf(ranges, 'application', 'json'),
    qualityOf(ranges, 'application', 'graphql-response+json'),
  );
  return html > 0 && html > json;
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parseAccept(accept: string): ReadonlyArray<MediaRange> {
  return accept.split(',').flatMap((part): MediaRange[] => {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (type === undefined || subtype === undefined || type === '' || subtype === '') return [];
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return Number.isFinite(q) ? [{ type, subtype, q: Math.min(1, Math.max(0, q)) }] : [];
  });
}

/** The quality the most specific matching range gives a media type (RFC 9110 §12.5.1). */
function qualityOf(ranges: ReadonlyArray<MediaRange>, type: string, subtype: string): number {
  let best: { specificity: number; q: number } = { specificity: -1, q: 0 };
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 2
        : range.type === type && range.subtype === '*'
          ? 1
          : range.type === '*' && range.subtype === '*'
            ? 0
            : -1;
    if (specificity > best.specificity) best = { specificity, q: range.q };
  }
  return best.q;
}
