import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../../../src/metrics/bound-histogram';

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];
const CONFIG = {
  name: 'holdfast_test_duration_seconds',
  help: 'A test histogram.',
  labelNames: ['route', 'status_class'] as const,
  buckets: BUCKETS,
  aggregator: 'sum' as const,
};

/** The same observations into prom-client's Histogram and into BoundHistogram, each in its registry. */
function both() {
  const reference = new Registry();
  const bound = new Registry();
  const ref = new Histogram({
    ...CONFIG,
    labelNames: [...CONFIG.labelNames],
    registers: [reference],
  });
  const ours = new BoundHistogram({
    ...CONFIG,
    labelNames: [...CONFIG.labelNames],
    registers: [bound],
  });
  return { reference, bound, all: [ref, ours] as const };
}

// Values below, on and between the bounds, and above the largest (only +Inf counts it).
const VALUES = [0, 0.0004, 0.001, 0.0011, 0.005, 0.02, 0.1, 0.75, 1, 3.5, 42];

describe('BoundHistogram', () => {
  it('exposes exactly what prom-client exposes for the same observations (text and JSON)', async () => {
    const { reference, bound, all } = both();
    for (const h of all) {
      h.zero({ route: '/auth/login', status_class: '2xx' });
      const me = h.labels({ route: '/auth/me', status_class: '2xx' });
      for (const v of VALUES) me.observe(v);
      h.labels('/auth/me', '5xx').observe(0.3);
      h.observe({ route: '/auth/sessions/{id}', status_class: '4xx' }, 0.002);
      h.observe({ route: '/auth/sessions/{id}', status_class: '4xx' }, 7);
    }
    const text = await bound.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain(
      'holdfast_test_duration_seconds_bucket{le="0.001",route="/auth/me",status_class="2xx"} 3',
    );
    expect(text).toContain(
      'holdfast_test_duration_seconds_count{route="/auth/me",status_class="2xx"} 11',
    );
    expect(text).toContain(
      'holdfast_test_duration_seconds_bucket{le="1",route="/auth/me",status_class="2xx"} 9',
    );
    expect(await bound.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it('folds workers alike in the primary (AggregatorRegistry)', async () => {
    const a = both();
    const b = both();
    for (const [i, pair] of [a, b].entries()) {
      for (const h of pair.all)
        h.labels({ route: '/auth/me', status_class: '2xx' }).observe(0.002 * (i + 1));
    }
    const folded = (r: 'reference' | 'bound') =>
      Promise.all([a[r].getMetricsAsJSON(), b[r].getMetricsAsJSON()]).then((j) =>
        AggregatorRegistry.aggregate(j).metrics(),
      );
    const ours = await folded('bound');
    expect(ours).toBe(await folded('reference'));
    expect(ours).toContain(
      'holdfast_test_duration_seconds_count{route="/auth/me",status_class="2xx"} 2',
    );
  });

  it('a bound child keeps counting through reset() and remove(), as prom-client recreates the series', async () => {
    const { reference, bound, all } = both();
    const children = all.map((h) => h.labels({ route: '/auth/me', status_class: '2xx' }));
    for (const c of children) c.observe(0.002);
    for (const h of all) h.reset();
    expect(await bound.metrics()).toBe(await reference.metrics());
    for (const c of children) c.observe(0.02);
    for (const h of all) h.remove({ route: '/auth/me', status_class: '2xx' });
    for (const c of children) c.observe(0.5);
    const text = await bound.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain(
      'holdfast_test_duration_seconds_count{route="/auth/me",status_class="2xx"} 1',
    );
  });

  it('refuses what prom-client refuses: an unknown label, a value that is not a number', () => {
    const { all } = both();
    const ours = all[1];
    expect(() => ours.labels({ nope: 'x' } as never)).toThrow('Added label "nope"');
    expect(() => ours.labels({ route: '/auth/me' }).observe(Number.NaN)).toThrow(TypeError);
    expect(() => ours.labels('/auth/me')).toThrow('Invalid number of arguments');
  });

  it('times with startTimer like prom-client', async () => {
    const { bound, all } = both();
    const end = all[1].startTimer({ route: '/auth/me' });
    const seconds = end({ status_class: '2xx' });
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(await bound.metrics()).toContain(
      'holdfast_test_duration_seconds_count{route="/auth/me",status_class="2xx"} 1',
    );
  });
});
