/** One sample of a scrape of `/metrics`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A scrape of a server's `/metrics`, in Prometheus text format. */
export interface Scrape {
  /** The sum over the series of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  /**
   * Whether the server exposes the metric at all: a labelled counter that never counted has
   * a `# TYPE` line and no sample, and reads as 0, not as missing.
   */
  declares(name: string): boolean;
  readonly samples: ReadonlyArray<Sample>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const TYPE = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseScrape(text: string): Scrape {
  const samples: Sample[] = [];
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const family = TYPE.exec(line)?.[1];
    if (family !== undefined) families.add(family);
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) {
      if (key !== undefined) labels[key] = value ?? '';
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return {
    samples,
    declares: (name) => families.has(name) || samples.some((s) => s.name === name),
    sum: (name, wanted = {}) =>
      samples
        .filter(
          (s) => s.name === name && Object.entries(wanted).every(([k, v]) => s.labels[k] === v),
        )
        .reduce((total, s) => total + s.value, 0),
  };
}

export async function scrape(origin: string): Promise<Scrape> {
  const response = await fetch(`${origin}/metrics`);
  return parseScrape(response.ok ? await response.text() : '');
}

/**
 * A quantile of a histogram over the interval between two scrapes, interpolated linearly
 * within its bucket as Prometheus's histogram_quantile does.
 *
 * @returns seconds, or undefined when nothing was observed.
 */
export function histogramQuantile(
  before: Scrape,
  after: Scrape,
  name: string,
  labels: Record<string, string>,
  quantile: number,
): number | undefined {
  const buckets = after.samples
    .filter(
      (s) =>
        s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )
    .map((s) => {
      const le = s.labels.le ?? '+Inf';
      const earlier = before.sum(`${name}_bucket`, { ...labels, le });
      return { le: le === '+Inf' ? Infinity : Number(le), count: s.value - earlier };
    })
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = quantile * total;
  let lower = 0;
  let below = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket;
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}
