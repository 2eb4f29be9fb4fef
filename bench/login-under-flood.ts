/**
 * Login latency under a registration flood (`make bench-flood`): one Holdfast node in this
 * process (memory store, scrypt at the production cost N = 2^17), a real user logging in over
 * HTTP on loopback, first with nothing else running, then while FLOOD clients keep one
 * anonymous registration each in flight. Prints the login latencies and what the flood got.
 * Figures are recorded in docs/performance.md; compare within one run (ENVIRONMENT.md).
 *
 * Uses only what every version since the accounts service has (createServices, the plugin), so
 * the same file measures an older checkout too.
 *
 * Environment: BENCH_FLOODS (comma-separated flood sizes, default "0,16,32"), BENCH_LOGINS
 * (logins measured per flood size, default 8), BENCH_COST (scrypt N, default 131072).
 * UV_THREADPOOL_SIZE is libuv's own (default 4).
 */
import Hapi from '@hapi/hapi';
import { performance } from 'node:perf_hooks';
import { loadSettings } from '../src/config';
import { holdfastPlugin } from '../src/plugin';
import { createServices } from '../src/server/services';

const FLOODS = (process.env.BENCH_FLOODS ?? '0,16,32').split(',').map(Number);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 8);
const COST = Number(process.env.BENCH_COST ?? 131072);
const PASSWORD = 'correct horse battery';

async function main(): Promise<void> {
  // env test: registrations are not throttled per address (a flood from many addresses is what
  // reaches the hashing), and no log output.
  const settings = loadSettings({
    env: { NODE_ENV: 'test' },
    overrides: { password: { cost: COST } },
  });
  const services = createServices(settings);
  await services.store.start();
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register({
    plugin: holdfastPlugin,
    options: { settings, sessions: services.sessions, accounts: services.accounts },
  });
  await server.start();
  const base = server.info.uri;
  const post = async (path: string, body: object) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };

  const email = 'real.user@example.com';
  if ((await post('/auth/register', { email, password: PASSWORD })) !== 201)
    throw new Error('could not register the measured user');

  const limits = settings.password as { maxConcurrentHashes?: number; maxQueuedHashes?: number };
  console.log(
    `scrypt N=${COST}; UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}; ` +
      `password.maxConcurrentHashes=${limits.maxConcurrentHashes ?? 'none'}, ` +
      `maxQueuedHashes=${limits.maxQueuedHashes ?? 'none'}; ${LOGINS} logins per row`,
  );
  console.log(
    '| flood (registrations in flight) | login median ms | login max ms | registrations/s | 201 | 503 | other |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');

  let seq = 0;
  for (const flood of FLOODS) {
    let stop = false;
    const statuses = new Map<number, number>();
    const started = performance.now();
    const workers = Array.from({ length: flood }, async () => {
      while (!stop) {
        const status = await post('/auth/register', {
          email: `flood.${++seq}@example.com`,
          password: PASSWORD,
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        // A refused client comes back a little later rather than spinning on the event loop.
        if (status !== 201) await new Promise((r) => setTimeout(r, 50));
      }
    });
    // Let the flood fill the pool and the queue before measuring.
    if (flood > 0) await new Promise((r) => setTimeout(r, 1500));
    const times: number[] = [];
    for (let i = 0; i < LOGINS; i++) {
      const t0 = performance.now();
      const status = await post('/auth/login', { email, password: PASSWORD });
      if (status !== 200) throw new Error(`login answered ${status}`);
      times.push(performance.now() - t0);
    }
    stop = true;
    // Answers within the measured time only; registrations still in flight finish afterwards.
    const seconds = (performance.now() - started) / 1000;
    const ok = statuses.get(201) ?? 0;
    const busy = statuses.get(503) ?? 0;
    const other = [...statuses].reduce((n, [s, c]) => (s === 201 || s === 503 ? n : n + c), 0);
    await Promise.all(workers);
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `| ${flood} | ${median.toFixed(0)} | ${times[times.length - 1].toFixed(0)} | ` +
        `${(ok / seconds).toFixed(1)} | ${ok} | ${busy} | ${other} |`,
    );
  }
  await server.stop();
  await services.store.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
