import { describe, expect, it } from 'vitest';
import { exportedMetrics, metricProblems } from '../support/metricProblems.js';
import { promqlReferences } from '../support/promqlReferences.js';

const names = (expression: string) => promqlReferences(expression).selectors.map((s) => s.name);

describe('promqlReferences', () => {
  it('finds the metric names and passes over functions, aggregations and keywords', () => {
    expect(
      names(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_seconds_bucket{route="/graphql"}[5m])))',
      ),
    ).toEqual(['http_seconds_bucket']);
    expect(names('sum(rate(a_total[5m])) by (job) / on (job) group_left () sum(b)')).toEqual([
      'a_total',
      'b',
    ]);
    expect(names('max without (instance) (c) == bool 2 and d unless e or f')).toEqual([
      'c',
      'd',
      'e',
      'f',
    ]);
    expect(names('group by (job) (g)')).toEqual(['g']);
    expect(names('topk(5, h) offset 1h')).toEqual(['h']);
    expect(names('i @ start()')).toEqual(['i']);
  });

  it('reads the labels of matchers and of grouping clauses', () => {
    const references = promqlReferences(
      'sum by (layer, type) (rate(cache_total{layer="l2", result!="miss",type=~"P.*"}[1h] offset 1h)) / ignoring (result) x',
    );
    expect(references.selectors).toEqual([
      { name: 'cache_total', labels: ['layer', 'result', 'type'] },
      { name: 'x', labels: [] },
    ]);
    expect(references.groupingLabels).toEqual(['layer', 'type', 'result']);
  });

  it('skips strings, numbers, durations, comments and Grafana variables', () => {
    expect(
      names(
        'label_replace(rate(a{job=~"$job", x="sum(b)"}[$__rate_interval]), "dst", "$1", "src", "(.*)") > 1e3 # c\n',
      ),
    ).toEqual(['a']);
    expect(names('d[${range}] * 0x1f + e[[interval]] - .5')).toEqual(['d', 'e']);
  });

  it('refuses an expression with unbalanced brackets or foreign characters', () => {
    expect(() => promqlReferences('sum(rate(a[5m])')).toThrow(/unbalanced/);
    expect(() => promqlReferences('a{job="x"')).toThrow(/unclosed/);
    expect(() => promqlReferences('a; drop')).toThrow(/cannot read/);
  });
});

describe('metricProblems', () => {
  const exported = exportedMetrics(
    ['# TYPE http_seconds histogram', '# TYPE cache_total counter', '# TYPE state gauge'].join(
      '\n',
    ),
    (name) =>
      name === 'cache_total' ? ['layer', 'result'] : name === 'http_seconds' ? ['route'] : [],
  );

  it('accepts exported names, the series of histograms and their labels', () => {
    expect(
      metricProblems(
        'histogram_quantile(0.9, sum by (le, job) (rate(http_seconds_bucket{route="/"}[5m]))) + sum(rate(http_seconds_count[5m])) + max by (instance) (state)',
        exported,
      ),
    ).toEqual([]);
    expect(metricProblems('sum by (layer) (cache_total{result="hit"})', exported)).toEqual([]);
  });

  it('reports a misspelled metric, a bare histogram and an unknown label', () => {
    expect(metricProblems('rate(cache_totl[5m])', exported)).toEqual([
      'cache_totl is not exported by /metrics in: rate(cache_totl[5m])',
    ]);
    expect(metricProblems('http_seconds', exported)).toEqual([
      'http_seconds is a histogram, queried without _bucket, _sum or _count in: http_seconds',
    ]);
    expect(metricProblems('cache_total{reslt="hit"}', exported)).toEqual([
      'cache_total has no label "reslt" in: cache_total{reslt="hit"}',
    ]);
    expect(metricProblems('sum by (tpye) (cache_total)', exported)).toEqual([
      'no metric has the label "tpye" in: sum by (tpye) (cache_total)',
    ]);
    expect(metricProblems('state_bucket + cache_total_count', exported)).toHaveLength(2);
  });
});
