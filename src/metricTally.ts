import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';

/*
 * prom-client hashes a metric's labels into a string and validates them on every update, which
 * costs far more than the addition itself. These subclasses keep prom-client's names, types,
 * labels and exposition, but find a series by walking its label values through nested maps and
 * add plain numbers; the sums reach prom-client when the registry is scraped.
 */

type LabelValue = string | number | undefined;

/**
 * Series by label values, in `labelNames` order: one map per label, the series at the leaf.
 * `all` lists them in the order they were first seen, as prom-client exposes them.
 */
export class SeriesTree<S> {
  readonly #root = new Map<LabelValue, unknown>();
  readonly #names: ReadonlyArray<string>;
  readonly #create: (labels: LabelValues<string>) => S;
  #unlabelled: S | undefined;
  readonly all: S[] = [];

  constructor(names: ReadonlyArray<string>, create: (labels: LabelValues<string>) => S) {
    this.#names = names;
    this.#create = create;
  }

  find(labels: LabelValues<string>): S {
    const names = this.#names;
    if (names.length === 0) {
      this.#unlabelled ??= this.#add({});
      return this.#unlabelled;
    }
    let node = this.#root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i] ?? ''];
      let next = node.get(value) as Map<LabelValue, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(value, next);
      }
      node = next;
    }
    const value = labels[names[last] ?? ''];
    let series = node.get(value) as S | undefined;
    if (series === undefined) {
      series = this.#add(labels);
      node.set(value, series);
    }
    return series;
  }

  remove(labels: LabelValues<string>): S | undefined {
    let node: Map<LabelValue, unknown> | undefined = this.#root;
    const names = this.#names;
    for (let i = 0; i < names.length - 1 && node !== undefined; i++) {
      node = node.get(labels[names[i] ?? '']) as Map<LabelValue, unknown> | undefined;
    }
    const key = labels[names[names.length - 1] ?? ''];
    const series = node?.get(key) as S | undefined;
    if (series === undefined) return undefined;
    node?.delete(key);
    this.all.splice(this.all.indexOf(series), 1);
    return series;
  }

  clear(): void {
    this.#root.clear();
    this.#unlabelled = undefined;
    this.all.length = 0;
  }

  #add(labels: LabelValues<string>): S {
    const series = this.#create(labels);
    this.all.push(series);
    return series;
  }
}

function checkedIncrement(value: number | undefined): number {
  if (value === undefined) return 1;
  if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
  if (value < 0) throw new Error('It is not possible to decrease a counter');
  return value;
}

interface CounterCell {
  readonly labels: LabelValues<string>;
  pending: number;
}

/**
 * A prom-client Counter whose `inc` adds to a plain number; `get()` (a scrape) hands the sums to
 * prom-client first. A label combination is validated by prom-client the first time it is seen.
 */
export class TallyCounter<T extends string = string> extends Counter<T> {
  private tree?: SeriesTree<CounterCell>;
  private onScrape?: () => void;

  /** @param config as prom-client's, plus `onScrape`, run at each scrape before the sums are read. */
  constructor(config: CounterConfiguration<T> & { readonly onScrape?: () => void }) {
    const { onScrape, ...rest } = config;
    super(rest);
    this.onScrape = onScrape;
    const exact = this.inc.bind(this) as (labels: LabelValues<string>, value: number) => void;
    const tree = new SeriesTree<CounterCell>(rest.labelNames ?? [], (labels) => {
      // prom-client's own inc checks the labels and creates the series, at zero.
      exact(labels, 0);
      return { labels: { ...labels }, pending: 0 };
    });
    this.tree = tree;
    this.flush = () => {
      for (const cell of tree.all) {
        if (cell.pending === 0) continue;
        exact(cell.labels, cell.pending);
        cell.pending = 0;
      }
    };
    const tally = (labels?: LabelValues<T> | number, value?: number): void => {
      if (typeof labels === 'object') tree.find(labels).pending += checkedIncrement(value);
      else tree.find({}).pending += checkedIncrement(labels);
    };
    // prom-client assigns `inc` per instance in its constructor; this replaces it.
    this.inc = tally as Counter<T>['inc'];
  }

  private flush: () => void = () => undefined;

  override async get(): ReturnType<Counter<T>['get']> {
    this.onScrape?.();
    this.flush();
    return super.get();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class has set its fields.
    this.tree?.clear();
    super.reset();
  }

  override remove(...args: unknown[]): void {
    const labels = args[0];
    if (typeof labels === 'object' && labels !== null) this.tree?.remove(labels);
    (super.remove as (...a: unknown[]) => void)(...args);
  }
}
