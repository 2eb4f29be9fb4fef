import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import {
  documentedMetrics,
  documentedRecordings,
  familyOf,
  metricsInPromQL,
} from '../../support/metrics-docs';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const DIR = path.join(__dirname, '..', '..', '..', 'deploy', 'prometheus');
const PROMTOOL = '/usr/bin/promtool';

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`,
    );
  }
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  annotations?: { runbook?: string };
}

/**
 * Series the alerts read that Holdfast does not export (`up`, kube-state-metrics): the first
 * column of docs/metrics.md's table "Series the alerts read that Holdfast does not export".
 */
function externalSeries(): Set<string> {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const section = doc.split('## Series the alerts read that Holdfast does not export')[1] ?? '';
  const names = [...section.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]);
  return new Set(names.filter((n) => !n.startsWith('holdfast_')));
}

function rules(): Rule[] {
  const doc = YAML.parse(fs.readFileSync(path.join(DIR, 'holdfast.rules.yml'), 'utf8')) as {
    groups: Array<{ rules: Rule[] }>;
  };
  return doc.groups.flatMap((g) => g.rules);
}

describe('Prometheus rules (deploy/prometheus)', () => {
  it('pass promtool check rules and check config', async () => {
    expect(await promtool('check', 'rules', 'holdfast.rules.yml')).toContain('SUCCESS');
    expect(await promtool('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
  });

  it('pass their promtool unit tests (series fixtures for every alert)', async () => {
    expect(await promtool('test', 'rules', 'holdfast.rules.test.yml')).toContain('SUCCESS');
  });

  it('have a unit test for every alert', () => {
    const tests = fs.readFileSync(path.join(DIR, 'holdfast.rules.test.yml'), 'utf8');
    for (const alert of rules().flatMap((r) => (r.alert ? [r.alert] : []))) {
      expect({ alert, tested: tests.includes(`alertname: ${alert}`) }).toEqual({
        alert,
        tested: true,
      });
    }
  });

  it('have an end-to-end firing test for every alert, unless it reads only kube-state-metrics', () => {
    const e2e = fs.readFileSync(path.join(__dirname, 'alerts.test.ts'), 'utf8');
    for (const rule of rules()) {
      if (!rule.alert) continue;
      const kubeOnly = metricsInPromQL(rule.expr).every((n) => n.startsWith('kube_'));
      const fires = new RegExp(`firing\\(\\s*\\w+,\\s*'${rule.alert}'`).test(e2e);
      expect({ alert: rule.alert, covered: kubeOnly || fires }).toEqual({
        alert: rule.alert,
        covered: true,
      });
    }
  });

  it('cover the alerts the issue asks for, each with a runbook section', () => {
    const alerts = rules().flatMap((r) => (r.alert ? [r.alert] : []));
    expect(alerts).toEqual(
      expect.arrayContaining([
        'HoldfastStoreUnreachable',
        'HoldfastStoreClusterNotOk',
        'HoldfastStoreReplicasMissing',
        'HoldfastMassLogout',
        'HoldfastFailedLoginSpike',
        'HoldfastPreflightFailing',
        'HoldfastNodeDown',
        'HoldfastNoNodeReady',
      ]),
    );
    const runbook = fs.readFileSync(path.join(DIR, '..', '..', 'docs', 'observability.md'), 'utf8');
    for (const alert of alerts) {
      expect({ alert, runbook: runbook.includes(`### ${alert}`) }).toEqual({
        alert,
        runbook: true,
      });
    }
    // Each alert's runbook annotation points at its own section (GitHub's heading anchor).
    for (const rule of rules().filter((r) => r.alert)) {
      expect({ alert: rule.alert, link: rule.annotations?.runbook }).toEqual({
        alert: rule.alert,
        link: `docs/observability.md#${rule.alert!.toLowerCase()}`,
      });
    }
  });

  it('read only metrics listed in docs/metrics.md and recordings listed there', () => {
    const documented = documentedMetrics();
    const external = externalSeries();
    expect([...external].sort()).toEqual(
      expect.arrayContaining(['kube_deployment_status_replicas_available', 'up']),
    );
    const recordings = documentedRecordings();
    const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
    expect([...recorded].sort()).toEqual([...recordings].sort());
    for (const rule of rules()) {
      for (const name of metricsInPromQL(rule.expr)) {
        const known =
          recorded.has(name) || familyOf(name, documented) !== null || external.has(name);
        expect({ rule: rule.alert ?? rule.record, name, known }).toEqual({
          rule: rule.alert ?? rule.record,
          name,
          known: true,
        });
      }
    }
  });
});
