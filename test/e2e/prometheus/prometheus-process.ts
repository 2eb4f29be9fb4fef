/** A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, in a temp dir. */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, LOOPBACK, notYet, waitUntil } from '../../harness';

export const PROMETHEUS = process.env.HOLDFAST_PROMETHEUS ?? '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One entry of /api/v1/alerts: an alert that is pending or firing now. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export class PrometheusProcess {
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stdout?.on('data', (d) => (this.output += String(d)));
    proc.stderr?.on('data', (d) => (this.output += String(d)));
  }

  /** Starts Prometheus scraping `targets` (host:port of metrics servers) every second. */
  static async start(targets: string[], ruleFiles: string[] = []): Promise<PrometheusProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      `rule_files: ${JSON.stringify(ruleFiles)}`,
      'scrape_configs:',
      '  - job_name: holdfast',
      `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const proc = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prom = new PrometheusProcess(port, dir, proc);
    await waitUntil(
      'prometheus ready',
      async () => {
        if (proc.exitCode !== null) throw new Error(`prometheus exited: ${prom.output}`);
        const res = await fetch(`http://${LOOPBACK}:${port}/-/ready`);
        return res.ok ? true : notYet(`status ${res.status}`);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return prom;
  }

  /** An instant query through the HTTP API; throws on a query error. */
  async query(expr: string): Promise<PromSample[]> {
    const url = `http://${LOOPBACK}:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`;
    const body = (await (await fetch(url)).json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: PromSample[] };
    };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    return body.data?.resultType === 'vector' ? (body.data.result ?? []) : [];
  }

  /** Pending and firing alerts (GET /api/v1/alerts). */
  async alerts(): Promise<PromAlert[]> {
    const url = `http://${LOOPBACK}:${this.port}/api/v1/alerts`;
    const body = (await (await fetch(url)).json()) as {
      status: string;
      error?: string;
      data?: { alerts: PromAlert[] };
    };
    if (body.status !== 'success') throw new Error(`alerts: ${body.error}`);
    return body.data?.alerts ?? [];
  }

  /** Rule files that failed to load or evaluate show here (GET /api/v1/rules). */
  async ruleErrors(): Promise<string[]> {
    const url = `http://${LOOPBACK}:${this.port}/api/v1/rules`;
    const body = (await (await fetch(url)).json()) as {
      data: {
        groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }>;
      };
    };
    return body.data.groups.flatMap((g) =>
      g.rules.filter((r) => r.health === 'err').map((r) => `${r.name}: ${r.lastError}`),
    );
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
