import {
  type Aggregator,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
  type ObserveDataWithExemplar,
} from 'prom-client';

/** One observer bound to one label set: what `labels()` returns, kept by the hot paths. */
export interface Observer {
  observe(value: number): void;
}

type Labels = Partial<Record<string, string | number>>;

/** The values of one label set: a count per upper bound (not cumulative), sum and count. */
class Series implements Observer {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Set when reset() or remove() dropped this series: the next observe puts it back. */
  detached = false;

  constructor(
    private readonly owner: BoundHistogram<string>,
    readonly key: string,
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (this.detached) this.owner.attach(this);
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A prom-client Histogram whose `labels(...)` children cost one bucket search and three additions
 * per observation. prom-client 15's own children validate the label names and build the label
 * set's hash string on every observe (measured in docs/performance.md, ADR 235); here that is done
 * once, when the child is made. Same registry contract and the same exposition (text and JSON,
 * so the primary's aggregation is unchanged): test/unit/metrics/bound-histogram.test.ts compares
 * both with prom-client's Histogram fed the same observations.
 */
export class BoundHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[];
  private readonly names: readonly string[];
  private readonly series = new Map<string, Series>();
  private readonly meta: { name: string; help: string; aggregator: Aggregator };

  constructor(config: HistogramConfiguration<T> & { buckets: number[] }) {
    super(config);
    // prom-client sets observe on the instance (with or without exemplars): use this class's.
    delete (this as unknown as Record<string, unknown>).observe;
    this.meta = { name: config.name, help: config.help, aggregator: config.aggregator ?? 'sum' };
    this.bounds = Object.freeze([...config.buckets]);
    this.names = Object.freeze([...(config.labelNames ?? [])]);
    if (this.names.length === 0) this.attach(this.make({}));
  }

  override labels(...args: [LabelValues<T>] | string[]): Histogram.Internal<T> {
    const series = this.find(this.labelSet(args));
    return {
      observe: (value: number) => series.observe(value),
      startTimer: (end?: LabelValues<T>) => this.timer(series.labels, end),
    };
  }

  /** The bound series itself: what the hot paths keep (no wrapper closure per child). */
  bind(labels: LabelValues<T>): Observer {
    return this.find(this.labelSet([labels]));
  }

  override observe(value: number): void;
  override observe(labels: LabelValues<T>, value: number): void;
  override observe(data: ObserveDataWithExemplar<T>): void;
  override observe(a: number | LabelValues<T> | ObserveDataWithExemplar<T>, b?: number): void {
    if (typeof a === 'number') this.find({}).observe(a);
    else if (b === undefined) throw new TypeError(`${this.meta.name}: exemplars are not enabled`);
    else this.find(this.labelSet([a as LabelValues<T>])).observe(b as number);
  }

  override startTimer(labels?: LabelValues<T>): (end?: LabelValues<T>) => number {
    return this.timer(labels ?? {}, undefined);
  }

  override zero(labels: LabelValues<T>): void {
    this.find(this.labelSet([labels])).clear();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    if (this.series === undefined) return;
    for (const s of this.series.values()) {
      s.detached = true;
      s.clear();
    }
    this.series.clear();
  }

  override remove(...args: [LabelValues<T>] | string[]): void {
    const labels = this.labelSet(args);
    const s = this.series.get(this.keyOf(labels));
    if (!s) return;
    s.detached = true;
    s.clear();
    this.series.delete(s.key);
  }

  /** Puts a dropped series back (it is observed again), as prom-client would recreate it. */
  attach(s: Series): void {
    s.detached = false;
    this.series.set(s.key, s);
  }

  override async get(): ReturnType<Histogram<T>['get']> {
    const data = await this.values();
    return {
      ...data,
      // prom-client's get(): the series' labels spread into each value, `le` first.
      values: data.values.map(({ sharedLabels, labels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
      })),
    } as unknown as Awaited<ReturnType<Histogram<T>['get']>>;
  }

  /** What Registry.metrics() reads: the series' labels apart from `le`, as prom-client gives them. */
  async getForPromString(): Promise<unknown> {
    return this.values();
  }

  private async values() {
    const self = this as unknown as { collect?: () => unknown };
    if (self.collect) await self.collect();
    const values: Array<{
      labels: Labels;
      sharedLabels: Labels;
      value: number;
      metricName: string;
      exemplar: null | undefined;
    }> = [];
    const bucket = `${this.meta.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({
          labels: { le: this.bounds[i] },
          sharedLabels: s.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        });
      }
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: s.labels,
          value: s.count,
          metricName: bucket,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: s.labels,
          value: s.sum,
          metricName: `${this.meta.name}_sum`,
          exemplar: undefined,
        },
        {
          labels: {},
          sharedLabels: s.labels,
          value: s.count,
          metricName: `${this.meta.name}_count`,
          exemplar: undefined,
        },
      );
    }
    const { name, help, aggregator } = this.meta;
    return { name, help, type: 'histogram', values, aggregator };
  }

  private timer(start: Labels, _end: undefined | LabelValues<T>): (end?: LabelValues<T>) => number {
    const began = process.hrtime();
    return (end?: LabelValues<T>) => {
      const delta = process.hrtime(began);
      const value = delta[0] + delta[1] / 1e9;
      this.observe({ ...start, ...end } as LabelValues<T>, value);
      return value;
    };
  }

  /** labels({...}) or labels('v1', 'v2') in labelNames order, checked as prom-client checks them. */
  private labelSet(args: [LabelValues<T>] | string[]): Labels {
    if (typeof args[0] === 'object') {
      const labels = args[0] as Labels;
      for (const name of Object.keys(labels)) {
        if (!this.names.includes(name)) {
          throw new Error(
            `Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.names)}`,
          );
        }
      }
      return labels;
    }
    if (args.length !== this.names.length) throw new Error('Invalid number of arguments');
    const labels: Labels = {};
    this.names.forEach((name, i) => (labels[name] = args[i] as string));
    return labels;
  }

  private keyOf(labels: Labels): string {
    let key = '';
    for (const name of this.names) key += `${labels[name] ?? ''}\u0000`;
    return key;
  }

  private find(labels: Labels): Series {
    const key = this.keyOf(labels);
    let s = this.series.get(key);
    if (!s) {
      s = this.make({ ...labels });
      this.series.set(key, s);
    }
    return s;
  }

  private make(labels: Labels): Series {
    return new Series(
      this as unknown as BoundHistogram<string>,
      this.keyOf(labels),
      labels,
      this.bounds,
    );
  }
}
