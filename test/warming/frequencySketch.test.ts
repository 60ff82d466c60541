import { describe, expect, it } from 'vitest';
import { createFrequencySketch } from '../../src/warming/frequencySketch.js';
import { createUsageTracker } from '../../src/warming/usageTracker.js';

/** A deterministic skewed stream: id i is looked up about (n / (i + 1)) times. */
function skewed(ids: number, lookups: number): string[] {
  const out: string[] = [];
  let seed = 7;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < lookups; i++) out.push(`id-${Math.floor(ids * random() ** 3)}`);
  return out;
}

describe('frequency sketch', () => {
  it('never estimates an id below its true count, and keeps the hottest ids by name', () => {
    const sketch = createFrequencySketch({ topK: 20, width: 4096 });
    const stream = skewed(2000, 20_000);
    const truth = new Map<string, number>();
    for (const id of stream) {
      sketch.add(id);
      truth.set(id, (truth.get(id) ?? 0) + 1);
    }
    for (const [id, count] of truth) expect(sketch.estimate(id)).toBeGreaterThanOrEqual(count);
    const hottest = [...truth]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([id]) => id);
    const top = sketch.top().map((hot) => hot.id);
    expect(sketch.size).toBe(20);
    for (const id of hottest) expect(top).toContain(id);
    // Highest first.
    const counts = sketch.top().map((hot) => hot.count);
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
  });

  it('forgets old popularity: after a shift, the new hot ids take the top', () => {
    const sketch = createFrequencySketch({ topK: 3, width: 64 });
    for (let i = 0; i < 300; i++) sketch.add('old');
    // Enough additions for several halvings (every 10 × width).
    for (let i = 0; i < 5_000; i++) sketch.add(i % 2 === 0 ? 'new-a' : 'new-b');
    const top = sketch.top().map((hot) => hot.id);
    expect(top.slice(0, 2).sort()).toEqual(['new-a', 'new-b']);
    expect(sketch.estimate('old')).toBeLessThan(300);
  });

  it('drains only what grew since the last drain, so that a shared score stops growing when lookups stop', () => {
    const sketch = createFrequencySketch({ topK: 5 });
    for (let i = 0; i < 3; i++) sketch.add('p1');
    sketch.add('p2');
    expect(sketch.drain()).toEqual([
      { id: 'p1', owner: undefined, count: 3 },
      { id: 'p2', owner: undefined, count: 1 },
    ]);
    expect(sketch.drain()).toEqual([]);
    sketch.add('p2');
    expect(sketch.drain()).toEqual([{ id: 'p2', owner: undefined, count: 1 }]);
    // The top-k itself still knows both.
    expect(sketch.top().map((hot) => hot.id)).toEqual(['p1', 'p2']);
  });

  it('carries a record’s patient with it into the top-k', () => {
    const sketch = createFrequencySketch({ topK: 2 });
    sketch.add('r1', 'p1');
    sketch.add('r1', 'p1');
    expect(sketch.top()).toEqual([{ id: 'r1', owner: 'p1', count: 2 }]);
  });

  it('stays bounded whatever ids it is fed, odd ones included', () => {
    const sketch = createFrequencySketch({ topK: 10 });
    for (let i = 0; i < 10_000; i++) sketch.add(`\u0000${'é'.repeat(i % 50)}\u{1F600}${i}`);
    expect(sketch.size).toBe(10);
  });
});

describe('usage tracker', () => {
  it('counts only the tenants and types it is told to, and bounds the pairs it keeps', () => {
    const tracker = createUsageTracker({
      topK: 5,
      counts: (tenant, type) => tenant === 't1' || type === 'Doctor',
      maxSketches: 2,
    });
    tracker.track('t1', 'Patient', ['p1', 'p1', 'p2']);
    tracker.track('t2', 'Patient', ['q1']);
    tracker.track('t2', 'Doctor', ['d1']);
    tracker.track('t1', 'Study', ['s1'], ['p1']);
    const snapshot = tracker.snapshot();
    expect(snapshot.map(({ tenantId, type }) => `${tenantId}/${type}`).sort()).toEqual([
      't1/Patient',
      't2/Doctor',
    ]);
    expect(snapshot.find((s) => s.type === 'Patient')?.hot[0]).toEqual({
      id: 'p1',
      owner: undefined,
      count: 2,
    });
    expect(tracker.sizes('t1')).toEqual(new Map([['Patient', 2]]));
  });
});
