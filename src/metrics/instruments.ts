import { Counter, Gauge, Registry } from 'prom-client';
import { BoundHistogram } from './bound-histogram';
import type { MetricDefinition } from './catalogue';

/** prom-client instruments built from catalogue definitions, each in the given registry. */

export type Labels<D extends MetricDefinition> = D['labels'][number];

export function counter<D extends MetricDefinition>(
  registry: Registry,
  d: D,
  collect?: () => void,
): Counter<Labels<D>> {
  return new Counter<Labels<D>>({
    name: d.name,
    help: d.help,
    labelNames: d.labels,
    aggregator: d.aggregator,
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

/**
 * A gauge without labels that reports no sample until set (prom-client would report 0): "the
 * store is down" or "no sessions" must never be said by a gauge nobody has measured yet.
 */
export class MaybeGauge extends Gauge<string> {
  private known = false;

  override set(value: number): void;
  override set(labels: Partial<Record<string, string | number>>, value: number): void;
  override set(a: number | Partial<Record<string, string | number>>, b?: number): void {
    this.known = true;
    if (typeof a === 'number') super.set(a);
    else super.set(a, b as number);
  }

  /** Back to "not measured": the next scrape has no sample. */
  unset(): void {
    this.known = false;
    super.reset();
  }

  override async get(): ReturnType<Gauge<string>['get']> {
    const metric = await super.get();
    return this.known ? metric : { ...metric, values: [] };
  }
}

export function maybeGauge(
  registry: Registry,
  d: MetricDefinition,
  collect?: () => void | Promise<void>,
): MaybeGauge {
  return new MaybeGauge({
    name: d.name,
    help: d.help,
    aggregator: d.aggregator,
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

export function gauge<D extends MetricDefinition>(registry: Registry, d: D): Gauge<Labels<D>> {
  return new Gauge<Labels<D>>({
    name: d.name,
    help: d.help,
    labelNames: d.labels,
    aggregator: d.aggregator,
    registers: [registry],
  });
}

export function histogram<D extends MetricDefinition>(
  registry: Registry,
  d: D,
  buckets: number[],
): BoundHistogram<Labels<D>> {
  return new BoundHistogram<Labels<D>>({
    name: d.name,
    help: d.help,
    labelNames: d.labels,
    aggregator: d.aggregator,
    buckets,
    registers: [registry],
  });
}
