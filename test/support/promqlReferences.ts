/** A metric selector in an expression: its name as written, and the labels it matches on. */
export interface SelectorReference {
  readonly name: string;
  readonly labels: ReadonlyArray<string>;
}

/** What a PromQL expression refers to. */
export interface PromqlReferences {
  readonly selectors: ReadonlyArray<SelectorReference>;
  /** Labels of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right` clauses. */
  readonly groupingLabels: ReadonlyArray<string>;
}

/** Keywords that can stand where a metric name could, and are none. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'atan2',
  'inf',
  'nan',
]);
/** Keywords followed by a parenthesised list of label names. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

type Token =
  | { readonly kind: 'identifier'; readonly text: string }
  | { readonly kind: 'punctuation'; readonly text: string }
  | { readonly kind: 'string' }
  | { readonly kind: 'number' };

/*
 * The token kinds, in the order they are tried. Range and subquery brackets (`[5m]`,
 * `[$__rate_interval]`, `[1h:5m]`) and Grafana's variables (`$job`, `${job}`, `[[job]]`) carry
 * no names, and are skipped whole.
 */
const SKIPPED = /^(?:\s+|#[^\n]*|\[\[[^\]]*\]\]|\[[^\]]*\]|\$\{[^}]*\}|\$\w+)/;
const STRING = /^(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)/;
const NUMBER = /^(?:0x[0-9a-f]+|\d[\w.]*|\.\d[\w.]*)/i;
const IDENTIFIER = /^[A-Za-z_:][A-Za-z0-9_:]*/;
const PUNCTUATION = /^(?:=~|!~|!=|==|<=|>=|[{}(),=<>+\-*/%^@])/;

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let rest = expression;
  while (rest !== '') {
    const skipped = SKIPPED.exec(rest);
    if (skipped !== null) {
      rest = rest.slice(skipped[0].length);
      continue;
    }
    const string = STRING.exec(rest);
    const number = string === null ? NUMBER.exec(rest) : null;
    const identifier = string === null && number === null ? IDENTIFIER.exec(rest) : null;
    const punctuation =
      string === null && number === null && identifier === null ? PUNCTUATION.exec(rest) : null;
    const matched = string ?? number ?? identifier ?? punctuation;
    if (matched === null) {
      throw new Error(`cannot read PromQL at "${rest.slice(0, 20)}" in: ${expression}`);
    }
    if (string !== null) tokens.push({ kind: 'string' });
    else if (number !== null) tokens.push({ kind: 'number' });
    else if (identifier !== null) tokens.push({ kind: 'identifier', text: matched[0] });
    else tokens.push({ kind: 'punctuation', text: matched[0] });
    rest = rest.slice(matched[0].length);
  }
  return tokens;
}

const isPunctuation = (token: Token | undefined, text: string): boolean =>
  token?.kind === 'punctuation' && token.text === text;

/**
 * The metric names, matcher labels and grouping labels of a PromQL expression. Function and
 * aggregation names (an identifier followed by `(`, `by` or `without`), keywords and label
 * names are not metric names; strings, numbers, durations and Grafana variables carry none.
 *
 * @throws when the expression has a character PromQL has not, or unbalanced brackets.
 */
export function promqlReferences(expression: string): PromqlReferences {
  const tokens = tokenize(expression);
  const selectors: SelectorReference[] = [];
  const groupingLabels: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) break;
    if (token.kind === 'punctuation') {
      if (token.text === '(') depth++;
      if (token.text === ')') depth--;
      if (depth < 0) throw new Error(`unbalanced ")" in: ${expression}`);
      // A selector by matchers alone (`{__name__="x"}`): its labels belong to no named metric.
      if (token.text === '{') i = readMatchers(tokens, i, expression).end;
      continue;
    }
    if (token.kind !== 'identifier') continue;
    const word = token.text.toLowerCase();
    if (GROUPING.has(word)) {
      if (isPunctuation(tokens[i + 1], '(')) {
        const { labels, end } = readList(tokens, i + 1, expression);
        groupingLabels.push(...labels);
        i = end;
      }
      continue;
    }
    // A function or an aggregation: `rate(`, `sum(`, and `sum by (le) (` with its clause first.
    const next = tokens[i + 1];
    const clause = next?.kind === 'identifier' && /^(?:by|without)$/i.test(next.text);
    if (KEYWORDS.has(word) || isPunctuation(next, '(') || clause) continue;
    if (isPunctuation(tokens[i + 1], '{')) {
      const { labels, end } = readMatchers(tokens, i + 1, expression);
      selectors.push({ name: token.text, labels });
      i = end;
    } else {
      selectors.push({ name: token.text, labels: [] });
    }
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in: ${expression}`);
  return { selectors, groupingLabels };
}

/** The label names of the matchers `{a="x", b=~"y"}` opened at `open`; `end` is at `}`. */
function readMatchers(tokens: ReadonlyArray<Token>, open: number, expression: string) {
  const labels: string[] = [];
  for (let i = open + 1; i < tokens.length; i++) {
    const token = tokens[i];
    if (isPunctuation(token, '}')) return { labels, end: i };
    const next = tokens[i + 1];
    if (token?.kind === 'identifier' && next?.kind === 'punctuation' && /^[=!]/.test(next.text)) {
      labels.push(token.text);
    }
  }
  throw new Error(`unclosed "{" in: ${expression}`);
}

/** The names of the list `(a, b)` opened at `open`; `end` is at `)`. */
function readList(tokens: ReadonlyArray<Token>, open: number, expression: string) {
  const labels: string[] = [];
  for (let i = open + 1; i < tokens.length; i++) {
    const token = tokens[i];
    if (isPunctuation(token, ')')) return { labels, end: i };
    if (token?.kind === 'identifier') labels.push(token.text);
  }
  throw new Error(`unclosed "(" in: ${expression}`);
}
