import { describe, expect, it } from 'vitest';
import { histogramQuantile, parseScrape } from '../../bench/prometheus.js';

const histogram = (counts: [string, number][]) =>
  parseScrape(
    counts
      .map(([le, n]) => `caregraph_l2_duration_seconds_bucket{le="${le}",op="get"} ${n}`)
      .join('\n'),
  );

describe('reading a scrape', () => {
  it('sums the series whose labels match', () => {
    const scrape = parseScrape(
      [
        '# HELP caregraph_db_queries_total SQL statements',
        'caregraph_db_queries_total{table="patients"} 3',
        'caregraph_db_queries_total{table="audit_events"} 2',
        'caregraph_cache_requests_total{layer="l2",type="[Doctor]",result="hit"} 5',
      ].join('\n'),
    );
    expect(scrape.sum('caregraph_db_queries_total')).toBe(5);
    expect(scrape.sum('caregraph_db_queries_total', { table: 'audit_events' })).toBe(2);
    expect(scrape.sum('caregraph_cache_requests_total', { type: '[Doctor]' })).toBe(5);
  });

  it('knows a declared metric that has no sample yet from one the server does not expose', () => {
    const scrape = parseScrape(
      [
        '# HELP caregraph_redis_errors_total L2 commands that failed',
        '# TYPE caregraph_redis_errors_total counter',
        '# TYPE caregraph_cache_breaker_state gauge',
        'caregraph_cache_breaker_state 0',
        '# HELP caregraph_shield_nothing_total only a help line, no type',
      ].join('\n'),
    );
    expect(scrape.declares('caregraph_redis_errors_total')).toBe(true);
    expect(scrape.sum('caregraph_redis_errors_total')).toBe(0);
    expect(scrape.declares('caregraph_cache_breaker_state')).toBe(true);
    expect(scrape.declares('caregraph_shield_nothing_total')).toBe(false);
    expect(scrape.declares('caregraph_redis_errors')).toBe(false);
    expect(parseScrape('').declares('caregraph_redis_errors_total')).toBe(false);
  });

  it('interpolates a quantile between two scrapes of a histogram', () => {
    const before = histogram([
      ['0.001', 10],
      ['0.002', 10],
      ['+Inf', 10],
    ]);
    const after = histogram([
      ['0.001', 60],
      ['0.002', 110],
      ['+Inf', 110],
    ]);
    // 100 new observations: 50 under 1 ms, 50 between 1 and 2 ms; the 95th lies at 1.9 ms.
    expect(
      histogramQuantile(before, after, 'caregraph_l2_duration_seconds', { op: 'get' }, 0.95),
    ).toBeCloseTo(0.0019);
    expect(
      histogramQuantile(after, after, 'caregraph_l2_duration_seconds', { op: 'get' }, 0.95),
    ).toBeUndefined();
  });
});
