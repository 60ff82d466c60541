import { promqlReferences } from './promqlReferences.js';

/** A metric as /metrics declares it: its `# TYPE` and the label names it was declared with. */
export interface ExportedMetric {
  readonly type: string;
  readonly labels: ReadonlySet<string>;
}

/** The labels Prometheus itself gives every series of a scrape target. */
const TARGET_LABELS = ['job', 'instance'];

/**
 * The metrics of a Prometheus text exposition, by the names of its `# TYPE` lines.
 *
 * @param labelNames the labels each metric was declared with (its series may not exist yet)
 */
export function exportedMetrics(
  text: string,
  labelNames: (name: string) => ReadonlyArray<string>,
): ReadonlyMap<string, ExportedMetric> {
  const metrics = new Map<string, ExportedMetric>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type = ''] = match;
    metrics.set(name, { type, labels: new Set(labelNames(name)) });
  }
  return metrics;
}

/**
 * What is wrong with the metrics an expression uses: each a sentence naming the expression.
 * A name must be a `# TYPE` of /metrics, or a histogram's `_bucket`, `_sum` or `_count` series
 * (a summary's `_sum` or `_count`); a histogram is never queried by its bare name, which has no
 * series. Matched labels must be the metric's own (`le` on `_bucket`) or a target's; labels of
 * `by (...)` and the like, those of one of the expression's metrics.
 *
 * @returns no problems when every name and label resolves.
 */
export function metricProblems(
  expression: string,
  exported: ReadonlyMap<string, ExportedMetric>,
): string[] {
  const problems: string[] = [];
  const { selectors, groupingLabels } = promqlReferences(expression);
  const known = new Set<string>([...TARGET_LABELS, '__name__']);
  for (const { name, labels } of selectors) {
    const resolved = resolve(name, exported);
    if (typeof resolved === 'string') {
      problems.push(`${resolved} in: ${expression}`);
      continue;
    }
    for (const label of resolved) known.add(label);
    for (const label of labels) {
      if (!resolved.has(label) && !TARGET_LABELS.includes(label) && label !== '__name__') {
        problems.push(`${name} has no label "${label}" in: ${expression}`);
      }
    }
  }
  // A metric that is not exported has no labels to check its clauses against.
  if (problems.some((problem) => problem.includes(' is not exported '))) return problems;
  for (const label of groupingLabels) {
    if (!known.has(label)) problems.push(`no metric has the label "${label}" in: ${expression}`);
  }
  return problems;
}

/** The labels a series name may carry, or why it is not exported. */
function resolve(
  name: string,
  exported: ReadonlyMap<string, ExportedMetric>,
): ReadonlySet<string> | string {
  const metric = exported.get(name);
  if (metric !== undefined) {
    return metric.type === 'histogram'
      ? `${name} is a histogram, queried without _bucket, _sum or _count`
      : metric.labels;
  }
  const suffix = /_(bucket|sum|count)$/.exec(name);
  const base = suffix === null ? undefined : exported.get(name.slice(0, suffix.index));
  if (base?.type === 'histogram') {
    return suffix?.[1] === 'bucket' ? new Set([...base.labels, 'le']) : base.labels;
  }
  if (base?.type === 'summary' && suffix?.[1] !== 'bucket') return base.labels;
  return `${name} is not exported by /metrics`;
}
