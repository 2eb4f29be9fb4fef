import fs from 'node:fs';
import path from 'node:path';

export interface DocumentedMetric {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

export const METRICS_DOC = path.join(__dirname, '..', '..', 'docs', 'metrics.md');

/** The metric tables of docs/metrics.md: rows `| \`name\` | type | \`label\`, … | meaning |`. */
export function documentedMetrics(file = METRICS_DOC): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6) continue; // | name | type | labels | meaning |
    const name = /^`(holdfast_[a-z0-9_]+)`$/.exec(cells[1])?.[1];
    if (!name) continue;
    if (out.has(name)) throw new Error(`${name} is listed twice in docs/metrics.md`);
    const labels = [...cells[3].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    out.set(name, { name, type: cells[2], labels });
  }
  return out;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, grouping clauses, ranges
 * and Grafana variables are removed first; what is left that is an identifier not called as a
 * function and not a keyword is a metric name.
 */
export function metricsInPromQL(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue;
    const before = stripped.slice(0, m.index);
    if (/[0-9.]$/.test(before) || /\boffset\s*$/.test(before)) continue; // 5m, 1e3, offset 5m
    names.add(m[1]);
  }
  return [...names];
}

/** A sample name's documented family: histograms are read as _bucket, _sum and _count. */
export function familyOf(name: string, documented: ReadonlyMap<string, unknown>): string | null {
  if (documented.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return documented.has(base) ? base : null;
}

/** The recording rules' names listed in docs/metrics.md (`holdfast:…`). */
export function documentedRecordings(file = METRICS_DOC): Set<string> {
  const out = new Set<string>();
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\| `(holdfast:[a-z0-9_:]+)` \|/gm)) {
    out.add(m[1]);
  }
  return out;
}
