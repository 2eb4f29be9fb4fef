/**
 * Draws the side-by-side result into the docs: docs/performance-side-by-side.svg and the table
 * between the markers in docs/performance.md, both from bench/results/latest.json alone.
 * bench/side-by-side.ts calls it after a run; `node -r ts-node/register/transpile-only
 * bench/chart.ts [latest.json]` redraws from a committed result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderChart, renderSection, replaceSection, type LatestResult } from './lib/report';

const ROOT = path.join(__dirname, '..');
export const DOC = path.join(ROOT, 'docs', 'performance.md');
export const CHART = path.join(ROOT, 'docs', 'performance-side-by-side.svg');

export async function writeReport(result: LatestResult, doc = DOC, chart = CHART): Promise<void> {
  fs.writeFileSync(chart, renderChart(result));
  const section = renderSection(result, path.relative(path.dirname(doc), chart));
  const text = replaceSection(fs.readFileSync(doc, 'utf8'), section);
  fs.writeFileSync(doc, text);
}

if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, 'results', 'latest.json');
  writeReport(JSON.parse(fs.readFileSync(file, 'utf8')) as LatestResult).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
