import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  documentedMetrics,
  documentedRecordings,
  familyOf,
  metricsInPromQL,
} from '../../support/metrics-docs';

/**
 * The dashboards are checked against the shape of @grafana/schema's Dashboard / Panel types (the
 * fields Grafana needs to import a dashboard), written out here because that package is not
 * installed; and every expression may read only metrics docs/metrics.md lists.
 */
interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}
interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  editable: boolean;
  time: { from: string; to: string };
  templating: { list: Array<{ name: string; type: string; query?: string }> };
  panels: Panel[];
}

const ROOT = path.join(__dirname, '..', '..', '..', 'grafana');
const DASHBOARDS = path.join(ROOT, 'dashboards');
const PANEL_TYPES = new Set(['stat', 'timeseries', 'gauge', 'table', 'bargauge', 'text']);

function load(file: string): Dashboard {
  return JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8')) as Dashboard;
}

const files = fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

function isInt(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

describe('Grafana dashboards', () => {
  it('exist: an overview and a store dashboard', () => {
    expect(files.sort()).toEqual(['holdfast-overview.json', 'holdfast-store.json']);
  });

  describe.each(files)('%s', (file) => {
    const d = load(file);

    it('has the fields of a Grafana dashboard', () => {
      expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(typeof d.title).toBe('string');
      expect(d.title.length).toBeGreaterThan(0);
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(Array.isArray(d.tags)).toBe(true);
      expect(typeof d.editable).toBe('boolean');
      expect(d.time).toEqual({ from: expect.any(String), to: expect.any(String) });
      // Panels name the datasource through a variable, so the dashboard imports into any Grafana.
      const ds = d.templating.list.find((v) => v.name === 'datasource');
      expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    });

    it('has well-formed panels on a 24-column grid that do not overlap', () => {
      const ids = new Set<number>();
      const cells = new Set<string>();
      for (const p of d.panels) {
        const where = `${file} panel "${p.title}"`;
        expect({ where, id: isInt(p.id), dup: ids.has(p.id) }).toEqual({ where, id: true, dup: false });
        ids.add(p.id);
        expect({ where, type: PANEL_TYPES.has(p.type) }).toEqual({ where, type: true });
        expect(p.title.length).toBeGreaterThan(0);
        expect((p.description ?? '').length).toBeGreaterThan(20);
        const { x, y, w, h } = p.gridPos;
        expect([x, y, w, h].every(isInt)).toBe(true);
        expect(w).toBeGreaterThan(0);
        expect(h).toBeGreaterThan(0);
        expect(x + w).toBeLessThanOrEqual(24);
        for (let cx = x; cx < x + w; cx++) {
          for (let cy = y; cy < y + h; cy++) {
            expect({ where, overlaps: cells.has(`${cx},${cy}`) }).toEqual({ where, overlaps: false });
            cells.add(`${cx},${cy}`);
          }
        }
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.targets.length).toBeGreaterThan(0);
        expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
        for (const t of p.targets) {
          expect(t.refId).toMatch(/^[A-Z]$/);
          expect(t.expr.trim().length).toBeGreaterThan(0);
        }
        expect(typeof p.fieldConfig.defaults).toBe('object');
        expect(Array.isArray(p.fieldConfig.overrides)).toBe(true);
        expect(typeof p.options).toBe('object');
      }
    });

    it('reads only metrics listed in docs/metrics.md', () => {
      const documented = documentedMetrics();
      const recordings = documentedRecordings();
      for (const p of d.panels) {
        for (const t of p.targets) {
          const names = metricsInPromQL(t.expr);
          expect(names.length).toBeGreaterThan(0);
          for (const name of names) {
            const known = recordings.has(name) || familyOf(name, documented) !== null;
            expect({ panel: p.title, name, known }).toEqual({ panel: p.title, name, known: true });
          }
        }
      }
    });
  });

  it('the overview answers the questions of issue 5', () => {
    const exprs = load('holdfast-overview.json').panels.flatMap((p) => p.targets.map((t) => t.expr));
    const uses = (re: RegExp) => exprs.some((e) => re.test(e));
    expect(uses(/max\(holdfast_sessions_active\)/)).toBe(true);
    expect(uses(/max\(holdfast_users_active\)/)).toBe(true);
    expect(uses(/holdfast_sessions_created_total/)).toBe(true);
    expect(uses(/holdfast_logins_failed_total/)).toBe(true);
    expect(uses(/histogram_quantile\(0\.5,.*holdfast_store_operation_duration_seconds_bucket/)).toBe(true);
    expect(uses(/histogram_quantile\(0\.99,.*holdfast_store_operation_duration_seconds_bucket/)).toBe(true);
    expect(uses(/holdfast_ready/)).toBe(true);
    // Deployment-wide gauges are never summed over nodes (ADR 010).
    expect(uses(/sum[^(]*\(\s*holdfast_(sessions|users)_active/)).toBe(false);
  });

  it('the store dashboard shows per-operation latency, cluster health and failovers', () => {
    const exprs = load('holdfast-store.json').panels.flatMap((p) => p.targets.map((t) => t.expr));
    const uses = (re: RegExp) => exprs.some((e) => re.test(e));
    expect(uses(/sum by \(operation, le\)/)).toBe(true);
    expect(uses(/holdfast_store_cluster_state_ok/)).toBe(true);
    expect(uses(/holdfast_store_replicas_online/)).toBe(true);
    expect(uses(/holdfast_store_failovers_total/)).toBe(true);
    expect(uses(/holdfast_preflight_check_status/)).toBe(true);
  });
});

describe('Grafana provisioning', () => {
  it('provisions a Prometheus datasource', () => {
    const file = path.join(ROOT, 'provisioning', 'datasources', 'holdfast.yaml');
    const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', access: 'proxy', url: expect.any(String) }),
    ]);
  });

  it('provisions the dashboards from files', () => {
    const file = path.join(ROOT, 'provisioning', 'dashboards', 'holdfast.yaml');
    const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: expect.any(String) }) }),
    ]);
  });
});
