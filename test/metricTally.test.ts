import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyCounter } from '../src/metricTally.js';
import { TallyHistogram } from '../src/metricTallyHistogram.js';

const BUCKETS = [0.0001, 0.001, 0.01, 0.05];

/** The same metrics twice: prom-client's own, and the tallies, each in a registry of its own. */
function pair() {
  const exact = new Registry();
  const tallied = new Registry();
  const build = (registry: Registry, tally: boolean) => {
    const C = tally ? TallyCounter : Counter;
    const H = tally ? TallyHistogram : Histogram;
    return {
      requests: new C({
        name: 'x_requests_total',
        help: 'Lookups by layer, type and result',
        labelNames: ['layer', 'type', 'result'],
        registers: [registry],
      }),
      events: new C({ name: 'x_events_total', help: 'Events', registers: [registry] }),
      duration: new H({
        name: 'x_duration_seconds',
        help: 'Durations',
        labelNames: ['op'],
        buckets: BUCKETS,
        registers: [registry],
      }),
      plain: new H({
        name: 'x_plain_seconds',
        help: 'No labels',
        buckets: BUCKETS,
        registers: [registry],
      }),
    };
  };
  return { exact, tallied, a: build(exact, false), b: build(tallied, true) };
}

describe('metricTally', () => {
  it('exposes exactly what prom-client exposes for the same updates', async () => {
    const { exact, tallied, a, b } = pair();
    for (const m of [a, b]) {
      m.requests.inc({ layer: 'l2', type: 'Patient', result: 'hit' }, 3);
      m.requests.inc({ layer: 'l2', type: 'Patient', result: 'miss' });
      m.requests.inc({ layer: 'l1', type: 'Doctor', result: 'hit' }, 0);
      m.requests.inc({ type: 'Study', result: 'hit', layer: 'l2' }, 2);
      m.requests.labels('l2', 'Patient', 'hit').inc(4);
      m.events.inc();
      m.events.inc(26);
      // On a bound, between bounds, below every bound and above every one.
      for (const v of [0.001, 0.0005, 0.00001, 7, 0.05, 0.0101])
        m.duration.observe({ op: 'get' }, v);
      m.duration.observe({ op: 'set' }, 0.002);
      m.duration.labels('set').observe(0.02);
      m.plain.observe(0.003);
    }
    expect(await tallied.metrics()).toBe(await exact.metrics());
    expect(await tallied.getMetricsAsJSON()).toEqual(await exact.getMetricsAsJSON());
    // Scraping twice counts nothing twice.
    b.events.inc();
    a.events.inc();
    expect(await tallied.metrics()).toBe(await exact.metrics());
  });

  it('times with startTimer into the right series', async () => {
    const { b, tallied } = pair();
    const end = b.duration.startTimer({ op: 'get' });
    const seconds = end();
    expect(seconds).toBeGreaterThanOrEqual(0);
    const [metric] = (await tallied.getMetricsAsJSON()).filter(
      (m) => m.name === 'x_duration_seconds',
    );
    const count = metric?.values.find(
      (v) => (v as { metricName?: string }).metricName === 'x_duration_seconds_count',
    );
    expect(count).toMatchObject({ labels: { op: 'get' }, value: 1 });
  });

  it('refuses what prom-client refuses, at the call', () => {
    const { b } = pair();
    expect(() => {
      b.requests.inc({ layer: 'l2', type: 'T', result: 'hit', tenant: 't1' } as never);
    }).toThrow(/not included/);
    expect(() => {
      b.duration.observe({ op: 'get', tenant: 't1' } as never, 1);
    }).toThrow(/not included/);
    expect(() => {
      b.events.inc(-1);
    }).toThrow(/decrease/);
    expect(() => {
      b.events.inc(Number.NaN);
    }).toThrow(/not a valid number/);
    expect(() => {
      b.duration.observe({ op: 'get' }, Number.POSITIVE_INFINITY);
    }).toThrow(/not a valid number/);
  });

  it('forgets pending counts and series on reset', async () => {
    const { b, tallied } = pair();
    b.requests.inc({ layer: 'l2', type: 'Patient', result: 'hit' }, 5);
    b.duration.observe({ op: 'get' }, 0.001);
    tallied.resetMetrics();
    const text = await tallied.metrics();
    expect(text).not.toContain('x_requests_total{');
    expect(text).not.toContain('x_duration_seconds_count{');
  });
});
