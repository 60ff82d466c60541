import {
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from 'prom-client';
import { SeriesTree } from './metricTally.js';

interface HistogramSeries {
  readonly labels: LabelValues<string>;
  /** Per bucket, not cumulative; the last slot counts values above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

type ExportValue = MetricValueWithName<string> & { sharedLabels?: LabelValues<string> };

/**
 * A prom-client Histogram whose `observe` adds into precomputed buckets; a scrape reads them in
 * prom-client's own format (cumulative `_bucket` series with `le`, then `_sum` and `_count`).
 * Exemplars are not supported.
 */
export class TallyHistogram<T extends string = string> extends Histogram<T> {
  private tree?: SeriesTree<HistogramSeries>;
  private readonly bounds: ReadonlyArray<number>;
  private readonly config: HistogramConfiguration<T>;

  constructor(config: HistogramConfiguration<T>) {
    if (config.enableExemplars === true) throw new Error('TallyHistogram has no exemplars');
    super(config);
    this.config = config;
    const bounds = [...(this as unknown as { upperBounds: number[] }).upperBounds];
    this.bounds = bounds;
    const names: ReadonlyArray<string> = config.labelNames ?? [];
    this.tree = new SeriesTree<HistogramSeries>(names, (labels) => {
      for (const name of Object.keys(labels)) {
        if (!names.includes(name)) {
          throw new Error(
            `Added label "${name}" is not included in initial labelset: ${JSON.stringify(names)}`,
          );
        }
      }
      return {
        labels: { ...labels },
        counts: new Array<number>(bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
    });
    const record = (labels: LabelValues<T> | number, value?: number): void => {
      const series = this.series(typeof labels === 'object' ? labels : {});
      const observed = typeof labels === 'object' ? value : labels;
      if (observed === undefined || !Number.isFinite(observed)) {
        throw new TypeError(`Value is not a valid number: ${observed}`);
      }
      let bucket = 0;
      while (bucket < bounds.length && observed > (bounds[bucket] ?? 0)) bucket++;
      series.counts[bucket] = (series.counts[bucket] ?? 0) + 1;
      series.sum += observed;
      series.count += 1;
    };
    // prom-client assigns `observe` per instance in its constructor; this replaces it.
    this.observe = record as Histogram<T>['observe'];
  }

  private series(labels: LabelValues<string>): HistogramSeries {
    if (this.tree === undefined) throw new Error('histogram not initialised');
    return this.tree.find(labels);
  }

  override startTimer(labels?: LabelValues<T>): (labels?: LabelValues<T>) => number {
    const started = performance.now();
    return (endLabels) => {
      const seconds = (performance.now() - started) / 1000;
      const all = endLabels === undefined ? (labels ?? {}) : { ...labels, ...endLabels };
      this.observe(all, seconds);
      return seconds;
    };
  }

  override labels(...args: unknown[]): Histogram.Internal<T> {
    const first = args[0];
    const labels: LabelValues<string> =
      typeof first === 'object' && first !== null
        ? first
        : Object.fromEntries(
            (this as unknown as { labelNames: string[] }).labelNames.map((name, i) => [
              name,
              args[i] as string,
            ]),
          );
    return {
      observe: (value: number) => {
        this.observe(labels as LabelValues<T>, value);
      },
      startTimer: (endLabels?: LabelValues<T>) =>
        this.startTimer(labels as LabelValues<T>).bind(undefined, endLabels),
    };
  }

  override zero(labels: LabelValues<T>): void {
    const series = this.series(labels);
    series.counts.fill(0);
    series.sum = 0;
    series.count = 0;
  }

  override remove(...args: unknown[]): void {
    const labels = args[0];
    if (typeof labels === 'object' && labels !== null) this.tree?.remove(labels);
  }

  override reset(): void {
    this.tree?.clear();
    super.reset();
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const data = this.exported();
    return Promise.resolve({
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    } as MetricObjectWithValues<MetricValueWithName<T>>);
  }

  /** What prom-client's registry formats: bucket labels apart from the series' own. */
  getForPromString(): Promise<MetricObjectWithValues<ExportValue>> {
    return Promise.resolve(this.exported());
  }

  private exported(): MetricObjectWithValues<ExportValue> {
    const values: ExportValue[] = [];
    const { name, help, aggregator = 'sum' } = this.config;
    // The shape of prom-client's own values (`setValuePair`), field for field.
    const point = (
      series: HistogramSeries,
      labels: LabelValues<string>,
      value: number,
      suffix: string,
    ) =>
      ({
        labels,
        sharedLabels: series.labels,
        value,
        metricName: `${name}${suffix}`,
        exemplar: suffix === '_bucket' ? null : undefined,
      }) as ExportValue;
    for (const series of this.tree?.all ?? []) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push(point(series, { le: bound }, cumulative, '_bucket'));
      });
      values.push(
        point(series, { le: '+Inf' }, series.count, '_bucket'),
        point(series, {}, series.sum, '_sum'),
        point(series, {}, series.count, '_count'),
      );
    }
    // prom-client's types name an enum where its code puts the string.
    return {
      name,
      help,
      type: 'histogram',
      values,
      aggregator,
    } as unknown as MetricObjectWithValues<ExportValue>;
  }
}
