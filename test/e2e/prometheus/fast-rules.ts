/**
 * deploy/prometheus/holdfast.rules.yml with only its timing changed, so an end-to-end test sees an
 * alert fire in seconds instead of minutes. Only the `for:` lines are rewritten (to FAST_FOR); every
 * expression, threshold, range, label and annotation is the file's own text. The evaluation
 * interval (1 s) is the test Prometheus's global setting (prometheus-process.ts), not the rules'.
 * `sameExceptFor` proves the two files differ in nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../../support/process';

export const RULES = path.join(ROOT, 'deploy', 'prometheus', 'holdfast.rules.yml');
export const FAST_FOR = '2s';

interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: Array<Record<string, unknown>> }>;
}

/** The rules text with every `for: <duration>` line set to FAST_FOR. */
export function fastRulesText(source = fs.readFileSync(RULES, 'utf8')): string {
  return source.replace(/^(\s+for:\s*)\S+\s*$/gm, `$1${FAST_FOR}`);
}

/** Writes the fast rules into `dir` and returns the file's path. */
export function writeFastRules(dir: string): string {
  const file = path.join(dir, 'holdfast.rules.fast.yml');
  fs.writeFileSync(file, fastRulesText());
  return file;
}

/** Both rule files parsed, with `for` removed from every rule: equal when only timing differs. */
export function withoutFor(text: string): RuleFile {
  const doc = YAML.parse(text) as RuleFile;
  for (const g of doc.groups) for (const r of g.rules) delete r.for;
  return doc;
}
