/**
 * The dashboards type-check against Grafana's own dashboard model (@grafana/schema): `make
 * typecheck` (tsc over test/) fails when a dashboard JSON stops matching it. TypeScript reads a
 * JSON file's strings as `string`, never as literals, so the model's string unions and enums are
 * widened to `string` for the comparison; every field's shape and type is still checked.
 */
import type { Dashboard } from '@grafana/schema';
import overview from '../../../grafana/dashboards/holdfast-overview.json';
import store from '../../../grafana/dashboards/holdfast-store.json';

type Loose<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends (infer U)[]
        ? Loose<U>[]
        : T extends object
          ? { [K in keyof T]: Loose<T[K]> }
          : T;

const dashboards: Record<string, Loose<Dashboard>> = { overview, store };

test('every dashboard is a @grafana/schema Dashboard with panels and a stable uid', () => {
  for (const [name, d] of Object.entries(dashboards)) {
    expect(d.uid).toBe(`holdfast-${name}`);
    expect(d.panels?.length).toBeGreaterThan(0);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
  }
});
