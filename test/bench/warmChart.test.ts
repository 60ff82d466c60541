import { describe, expect, it } from 'vitest';
import { pickWarmCharts } from '../../bench/warmChart.js';
import type { WorkloadRequest } from '../../bench/workload.js';

const chart = (user: number, id: string): WorkloadRequest => ({
  kind: 'chart',
  user,
  operation: 'Chart',
  variables: { id },
});

describe('the warm chart run', () => {
  it('picks distinct clinician charts from the half of the stream the warm runs play', () => {
    const requests: WorkloadRequest[] = [
      chart(1, 'first-half'),
      chart(2, 'first-half-too'),
      chart(2, 'first-half-too'),
      chart(3, 'a'),
      { kind: 'ownChart', user: 9, operation: 'Chart', variables: { id: 'own' } },
      { kind: 'mobile', user: 4, operation: 'MobileChart', variables: { id: 'b' } },
      // The second half starts here.
      chart(3, 'a'),
      { kind: 'ownChart', user: 9, operation: 'Chart', variables: { id: 'own' } },
      chart(3, 'a'),
      chart(4, 'a'),
      { kind: 'mobile', user: 4, operation: 'MobileChart', variables: { id: 'b' } },
      chart(3, 'c'),
      chart(5, 'd'),
    ];
    const picked = pickWarmCharts(requests, 10);
    expect(picked.map((r) => `${String(r.user)}:${r.variables.id ?? ''}`)).toEqual([
      '3:a',
      '4:a',
      '3:c',
      '5:d',
    ]);
    expect(pickWarmCharts(requests, 2).map((r) => r.user)).toEqual([3, 4]);
  });
});
