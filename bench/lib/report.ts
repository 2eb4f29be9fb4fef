/**
 * The side-by-side benchmark's result (bench/results/latest.json) and what is made from it: the
 * markdown table and the SVG chart of docs/performance.md. Pure functions of the result, so
 * `bench/chart.ts` can redraw both from a committed latest.json and a test can check them.
 */

/** The stacks, in the order the table and chart show them. */
export const STACK_NAMES = [
  'bare',
  'hapi-cookie',
  'catbox-redis',
  'catbox-redis-keepalive',
  'connect-redis',
  'connect-redis-rolling',
  'holdfast-strict',
  'holdfast-near-cache',
  'holdfast-cookie-adapter',
  'holdfast-start-me',
  'holdfast-library-me',
] as const;
export type StackName = (typeof STACK_NAMES)[number];

export interface MeasuredStack {
  readonly name: StackName;
  readonly route: string;
  /** One entry per round, in round order. */
  readonly reqPerSec: number[];
  readonly p50Ms: number[];
  readonly p99Ms: number[];
  /** This stack's req/s over bare Hapi's in the same round. */
  readonly ratioToBare: number[];
  /** Commands the masters ran per request (INFO commandstats deltas, median over rounds). */
  readonly redisCommandsPerRequest: number;
  /** The same by command name (lower case), summed over the rounds. */
  readonly redisCommandsByName: Record<string, number>;
  /** CPU µs the stack's processes spent per request, per round. */
  readonly cpuUsPerRequest: number[];
  /**
   * Bare Hapi's CPU µs per request over this stack's, per round: the throughput ratio a
   * CPU-bound server reaches. Other jobs on the cores move it far less than req/s.
   */
  readonly cpuRatioToBare: number[];
}

export interface SkippedStack {
  readonly name: StackName;
  readonly skipped: string;
}

export type StackResult = MeasuredStack | SkippedStack;

export interface LatestResult {
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memGiB: number;
    readonly node: string;
    readonly redis: string;
    readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  };
  readonly settings: {
    readonly quick: boolean;
    readonly rounds: number;
    readonly secondsPerRound: number;
    readonly warmupSeconds: number;
    readonly connections: number;
    readonly sessionsPerStack: number;
  };
  readonly stacks: StackResult[];
}

export const isSkipped = (s: StackResult): s is SkippedStack => 'skipped' in s;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number): string => n.toFixed(digits);

/** Markdown: one row per stack, ratios per round and their median, req/s, latency, commands. */
export function renderTable(result: LatestResult): string {
  const rows = [
    '| stack | route | ratio to bare (median) | ratio per round | req/s per round | by CPU per request (median) | p50 ms | p99 ms | Redis commands per request |',
    '| --- | --- | ---: | --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const s of result.stacks) {
    if (isSkipped(s)) {
      rows.push(`| ${s.name} | | skipped | ${s.skipped.replace(/\|/g, '\\|')} | | | | | |`);
      continue;
    }
    const byName = Object.entries(s.redisCommandsByName)
      .filter(([, n]) => n >= 0.005)
      .sort((a, b) => b[1] - a[1])
      .map(([cmd, n]) => `${cmd.toUpperCase()} ${fixed(n, 2)}`)
      .join(', ');
    rows.push(
      `| ${s.name} | ${s.route} | ${fixed(median(s.ratioToBare), 2)} | ` +
        `${s.ratioToBare.map((r) => fixed(r, 2)).join(', ')} | ` +
        `${s.reqPerSec.map(int).join(', ')} | ${fixed(median(s.cpuRatioToBare), 2)} | ` +
        `${fixed(median(s.p50Ms), 1)} | ` +
        `${fixed(median(s.p99Ms), 1)} | ${fixed(s.redisCommandsPerRequest, 2)}` +
        `${byName ? ` (${byName})` : ''} |`,
    );
  }
  return rows.join('\n');
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar per stack: the bar ends at the median ratio to bare, a line spans the lowest
 * to the highest round and a dot marks each round. Skipped stacks are named with the word
 * "skipped". The axis runs from 0 to the larger of 1.2 and the highest round.
 */
export function renderChart(result: LatestResult): string {
  const label = 190;
  const plot = 460;
  const right = 70;
  const rowH = 26;
  const top = 40;
  const rows = result.stacks.length;
  const width = label + plot + right;
  const height = top + rows * rowH + 40;
  const measured = result.stacks.filter((s): s is MeasuredStack => !isSkipped(s));
  const highest = Math.max(1.2, ...measured.flatMap((s) => s.ratioToBare));
  const max = Math.ceil(highest * 5) / 5;
  const x = (ratio: number): number => Number((label + (ratio / max) * plot).toFixed(1));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${label}" y="18" font-size="13" font-weight="bold">Requests per second as a ratio to bare Hapi (same round)</text>`,
    `<text x="${label}" y="32" fill="#555">bar: median of ${result.settings.rounds} rounds; line: lowest to highest round; dots: rounds</text>`,
  ];
  for (let t = 0; t <= max + 1e-9; t += 0.2) {
    const tx = x(t);
    out.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + rows * rowH}" stroke="${Math.abs(t - 1) < 1e-9 ? '#333' : '#ddd'}"/>`,
      `<text x="${tx}" y="${top + rows * rowH + 16}" text-anchor="middle" fill="#555">${t.toFixed(1)}</text>`,
    );
  }
  result.stacks.forEach((s, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    out.push(`<text x="${label - 8}" y="${mid + 4}" text-anchor="end">${escapeXml(s.name)}</text>`);
    if (isSkipped(s)) {
      out.push(`<text x="${label + 6}" y="${mid + 4}" fill="#a00">skipped</text>`);
      return;
    }
    const m = median(s.ratioToBare);
    const lo = Math.min(...s.ratioToBare);
    const hi = Math.max(...s.ratioToBare);
    const colour = s.name.startsWith('holdfast')
      ? '#2a7ab8'
      : s.name === 'bare'
        ? '#888'
        : '#d98c2b';
    out.push(
      `<rect x="${label}" y="${y + 5}" width="${(x(m) - label).toFixed(1)}" height="${rowH - 10}" fill="${colour}" data-ratio="${m.toFixed(3)}"/>`,
      `<line x1="${x(lo)}" y1="${mid}" x2="${x(hi)}" y2="${mid}" stroke="#000" stroke-width="2" data-low="${lo.toFixed(3)}" data-high="${hi.toFixed(3)}"/>`,
      ...s.ratioToBare.map((r) => `<circle cx="${x(r)}" cy="${mid}" r="3" fill="#000"/>`),
      `<text x="${x(hi) + 6}" y="${mid + 4}">${m.toFixed(2)}</text>`,
    );
  });
  out.push(
    `<text x="${label + plot / 2}" y="${height - 6}" text-anchor="middle" fill="#555">${escapeXml(
      `${result.machine.cpus} cores shared by client, servers and Redis; ${result.date.slice(0, 10)}`,
    )}</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

export const TABLE_START = '<!-- bench:side-by-side:start -->';
export const TABLE_END = '<!-- bench:side-by-side:end -->';

/** `doc` with the text between the markers replaced by `body`; throws if a marker is missing. */
export function replaceSection(doc: string, body: string): string {
  const a = doc.indexOf(TABLE_START);
  const b = doc.indexOf(TABLE_END);
  if (a < 0 || b < a)
    throw new Error(`the document has no ${TABLE_START} ... ${TABLE_END} section`);
  return `${doc.slice(0, a + TABLE_START.length)}\n\n${body}\n\n${doc.slice(b)}`;
}

/** The generated part of docs/performance.md: when, where, the table and the chart. */
export function renderSection(result: LatestResult, chartPath: string): string {
  const m = result.machine;
  const s = result.settings;
  return [
    `Run of ${result.date} (${s.quick ? 'QUICK: ' : ''}${s.rounds} interleaved rounds of ${s.secondsPerRound} s per stack after a ${s.warmupSeconds} s warm-up, ` +
      `${s.connections} connections with one session each), Node ${m.node}, ${m.redis}, ` +
      `${m.cpus} cores (${m.cpuModel}) **shared by the load generator, every server and all six Redis nodes**; ` +
      `load average ${m.loadAverage.start.map((l) => l.toFixed(1)).join(' / ')} at the start, ` +
      `${m.loadAverage.end.map((l) => l.toFixed(1)).join(' / ')} at the end. Read the ratios, not the absolute req/s.`,
    '',
    renderTable(result),
    '',
    `![Ratio to bare Hapi per stack, with the spread of the rounds](${chartPath})`,
  ].join('\n');
}
