import { describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/chart.js';
import { computeRatios, renderMarkdown } from '../../bench/report.js';
import { computeTargets } from '../../bench/targets.js';
import { report } from './benchReport.js';

describe('the bench report', () => {
  it('computes every target ratio from the phases', () => {
    const ratios = Object.fromEntries(computeRatios(report).map((r) => [r.name, r]));
    expect(ratios['caregraph warm vs L1-only throughput']).toMatchObject({
      measured: 4,
      met: true,
    });
    expect(ratios['caregraph warm vs L1-only p95 latency']).toMatchObject({
      measured: 0.25,
      met: true,
    });
    expect(ratios['caregraph warm vs peer response cache throughput']).toMatchObject({
      measured: 2,
      met: true,
    });
    expect(ratios['caregraph warm vs peer response cache hit rate']?.measured).toBeCloseTo(2.375);
    expect(ratios['caregraph warm vs ceiling throughput']?.measured).toBeCloseTo(0.667);
    expect(ratios['N+1 vs DataLoader, SQL statements on the cold chart']).toMatchObject({
      measured: 10,
      met: true,
    });
    expect(ratios['sealed vs plaintext L2 throughput']?.met).toBe(true);
    expect(ratios['L2 get p95 (warm)']).toMatchObject({ measured: 0.8, met: true });
  });

  it('marks a missed target, and a ratio it cannot compute as unknown', () => {
    const slow = { ...report, phases: report.phases.filter((p) => p.id !== 'ceiling') };
    const ratios = Object.fromEntries(computeRatios(slow).map((r) => [r.name, r]));
    expect(ratios['caregraph warm vs ceiling throughput']).toMatchObject({
      measured: undefined,
      met: undefined,
    });
    const missed = computeRatios({
      ...report,
      probes: { ...report.probes, warmChartRoundTrips: 9 },
    });
    expect(missed.find((r) => r.name === 'warm chart query: Redis round trips')?.met).toBe(false);
  });

  it('renders the table and an SVG chart of every mode', () => {
    const markdown = renderMarkdown(report, computeRatios(report), computeTargets(report));
    expect(markdown).toContain('| caregraph warm | 400 |');
    const svg = renderChart(report);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('caregraph warm');
    expect(svg).toContain('ceiling');
    expect(svg).toContain('server CPU ms/request');
    expect(svg).toContain('load generator CPU ms/request');
  });

  it("gives every mode its CPU per request, the server's and the load generator's", () => {
    const markdown = renderMarkdown(report, computeRatios(report), computeTargets(report));
    // The ceiling at 600 req/s: 10 CPU seconds over 6,000 requests, the load generator 2.
    expect(markdown).toContain('| ceiling | 600 | 1.67 | 3.33 | 5.00 | 1.667 | 0.333 |');
    expect(markdown).toContain('| N+1 | 10 | 100.00 | 200.00 | 300.00 | 100.000 | 20.000 |');
  });

  it('lists the warm chart alone and the unloaded L2 probe beside the loaded figure', () => {
    const markdown = renderMarkdown(report, computeRatios(report), computeTargets(report));
    expect(markdown).toContain('## Warm chart alone');
    expect(markdown).toContain('| caregraph | 300 | 3.33 | 6.67 | 1.500 | 0.200 |');
    expect(markdown).toContain('p95 0.400 ms, p99 0.900 ms');
    expect(markdown).toContain('Under load (the warm run, timed by the server): p95 0.80 ms.');
  });

  it('says so when the probe did not run', () => {
    const markdown = renderMarkdown({ ...report, l2Probe: undefined }, [], []);
    expect(markdown).toContain('Unloaded L2 get probe: not run');
  });
});
