import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../../bench/chart';
import {
  isSkipped,
  median,
  renderChart,
  renderTable,
  replaceSection,
  STACK_NAMES,
  TABLE_END,
  TABLE_START,
  type LatestResult,
  type MeasuredStack,
} from '../../../bench/lib/report';

const stack = (name: MeasuredStack['name'], rps: number[], bare: number[]): MeasuredStack => ({
  name,
  route: '/me',
  reqPerSec: rps,
  p50Ms: rps.map(() => 5),
  p99Ms: [20, 40, 30].slice(0, rps.length),
  ratioToBare: rps.map((r, i) => Math.round((r / bare[i]) * 1000) / 1000),
  redisCommandsPerRequest: name === 'bare' ? 0 : 1.004,
  redisCommandsByName: name === 'bare' ? {} : { get: 1.002, expire: 0.002 },
  cpuUsPerRequest: rps.map(() => 100),
  cpuRatioToBare: rps.map(() => (name === 'bare' ? 1 : 0.5)),
});

function result(): LatestResult {
  const bare = [10_000, 8_000, 12_000];
  return {
    date: '2026-12-01T23:30:00.000Z',
    machine: {
      cpus: 2,
      cpuModel: 'test cpu',
      memGiB: 24,
      node: 'v24.22.3',
      redis: 'Redis Cluster 3 masters + 3 replicas, AOF on, Redis 7.0.15',
      loadAverage: { start: [1, 2, 3], end: [4, 5, 6] },
    },
    settings: {
      quick: false,
      rounds: 3,
      secondsPerRound: 10,
      warmupSeconds: 5,
      connections: 50,
      sessionsPerStack: 50,
    },
    stacks: [
      stack('bare', bare, bare),
      stack('catbox-redis', [2_500, 2_400, 2_400], bare),
      { name: 'holdfast-near-cache', skipped: 'settings refuse nearCache.enabled | not yet' },
      stack('holdfast-strict', [7_000, 6_400, 9_600], bare),
    ],
  };
}

test('median: middle value, mean of the two middle ones, NaN for none', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});

test('the table: median ratio, every round, req/s, latency medians and commands by name', () => {
  const lines = renderTable(result()).split('\n');
  expect(lines).toHaveLength(2 + 4);
  expect(lines[2]).toBe(
    '| bare | /me | 1.00 | 1.00, 1.00, 1.00 | 10,000, 8,000, 12,000 | 1.00 | 5.0 | 30.0 | 0.00 |',
  );
  // catbox: 0.25, 0.3, 0.2 per round, median 0.25; EXPIRE (0.002) is below the shown threshold.
  expect(lines[3]).toBe(
    '| catbox-redis | /me | 0.25 | 0.25, 0.30, 0.20 | 2,500, 2,400, 2,400 | 0.50 | 5.0 | 30.0 | 1.00 (GET 1.00) |',
  );
  // A skipped stack keeps its row, with the reason (a | in it escaped for markdown).
  expect(lines[4]).toBe(
    '| holdfast-near-cache | | skipped | settings refuse nearCache.enabled \\| not yet | | | | | |',
  );
  expect(lines[5]).toContain('| holdfast-strict | /me | 0.80 | 0.70, 0.80, 0.80 |');
});

test('the chart: a bar to the median ratio, a line over the rounds, a dot per round', () => {
  const svg = renderChart(result());
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  // Axis 0..1.2 over 460 px from x = 190: ratio 0.8 ends at 190 + 0.8 / 1.2 * 460.
  expect(svg).toContain(`width="${((0.8 / 1.2) * 460).toFixed(1)}"`);
  expect(svg).toContain('data-ratio="0.800"');
  expect(svg).toContain('data-low="0.700" data-high="0.800"');
  expect(svg).toContain('data-ratio="0.250"');
  expect(svg).toContain('data-low="0.200" data-high="0.300"');
  expect(svg.match(/<circle /g)).toHaveLength(9); // three measured stacks, three rounds each
  expect(svg).toMatch(/>holdfast-near-cache<\/text>\n<text [^>]*>skipped<\/text>/);
  expect(svg).toContain('2 cores shared by client, servers and Redis');
});

test('the chart widens its axis to the highest round', () => {
  const r = result();
  const wide = {
    ...r,
    stacks: [...r.stacks, stack('hapi-cookie', [14_000, 8_000, 12_000], [10_000, 8_000, 12_000])],
  };
  const svg = renderChart(wide);
  // Highest round 1.4: the axis runs to 1.4, so the tick 1.4 is drawn and ratio 1.0 sits at 190 + 460 / 1.4.
  expect(svg).toContain('>1.4</text>');
  expect(svg).toContain(`<circle cx="${(190 + 460 / 1.4).toFixed(1).replace(/\.0$/, '')}"`);
});

test('replaceSection swaps what is between the markers and keeps the rest', () => {
  const doc = `# Title\n\nbefore\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nafter\n`;
  const out = replaceSection(doc, 'new table');
  expect(out).toBe(`# Title\n\nbefore\n\n${TABLE_START}\n\nnew table\n\n${TABLE_END}\n\nafter\n`);
  expect(replaceSection(out, 'newer')).toContain(`${TABLE_START}\n\nnewer\n\n${TABLE_END}`);
  expect(() => replaceSection('# no markers', 'x')).toThrow(/bench:side-by-side:start/);
});

test('writeReport writes the chart file and the section with a link to it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-bench-report-'));
  try {
    const doc = path.join(dir, 'performance.md');
    const chart = path.join(dir, 'chart.svg');
    fs.writeFileSync(doc, `# P\n\n${TABLE_START}\n${TABLE_END}\n\nrest\n`);
    await writeReport(result(), doc, chart);
    expect(fs.readFileSync(chart, 'utf8')).toBe(renderChart(result()));
    const text = fs.readFileSync(doc, 'utf8');
    expect(text).toContain(renderTable(result()));
    expect(text).toContain('](chart.svg)');
    expect(text).toContain('load average 1.0 / 2.0 / 3.0 at the start');
    expect(text.endsWith(`${TABLE_END}\n\nrest\n`)).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bench/results/latest.json: every stack by name, rounds aligned, ratios to bare of the same round', () => {
  const latest = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../../../bench/results/latest.json'), 'utf8'),
  ) as LatestResult;
  expect(Number.isNaN(Date.parse(latest.date))).toBe(false);
  expect(latest.machine.cpus).toBeGreaterThan(0);
  expect(latest.machine.redis).toMatch(/3 masters \+ 3 replicas, AOF on/);
  expect(latest.stacks.map((s) => s.name)).toEqual([...STACK_NAMES]);
  expect(latest.settings.rounds).toBeGreaterThanOrEqual(2);
  const bare = latest.stacks[0] as MeasuredStack;
  expect(bare.ratioToBare).toEqual(bare.reqPerSec.map(() => 1));
  expect(bare.redisCommandsPerRequest).toBeLessThan(0.05);
  for (const s of latest.stacks) {
    if (isSkipped(s)) {
      expect(s.skipped.length).toBeGreaterThan(0);
      continue;
    }
    const all = [s.reqPerSec, s.p50Ms, s.p99Ms, s.ratioToBare, s.cpuUsPerRequest, s.cpuRatioToBare];
    for (const series of all) expect(series).toHaveLength(latest.settings.rounds);
    // Rounded req/s: the recomputed ratio agrees to within the rounding.
    s.ratioToBare.forEach((r, i) => expect(r).toBeCloseTo(s.reqPerSec[i] / bare.reqPerSec[i], 2));
    expect(s.redisCommandsPerRequest).toBeGreaterThanOrEqual(0);
  }
  // Every stack that keeps its sessions in Redis reads it at least once per request.
  for (const name of ['catbox-redis', 'connect-redis', 'holdfast-strict'] as const) {
    const s = latest.stacks.find((x) => x.name === name) as MeasuredStack;
    expect(s.redisCommandsPerRequest).toBeGreaterThanOrEqual(0.95);
  }
});
