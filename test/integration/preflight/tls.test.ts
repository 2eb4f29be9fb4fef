/**
 * store.tls against real servers: a TLS-only redis-server (certificate made with openssl for
 * 127.0.0.1) and a plain one. TLS expected but not offered, offered but not expected, an
 * untrusted certificate and one for another name each fail with their own line; with the CA
 * trusted through NODE_EXTRA_CA_CERTS (read at process start, so that run is a child process)
 * the check passes.
 */
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { freePort, getProvider, notYet, RedisNode, waitUntil } from '../../harness';
import { lineOf, preflightThenStart, productionEnv } from './helpers';

jest.setTimeout(90_000);

const ROOT = path.join(__dirname, '../../..');
let dir: string;
let tlsPort: number;
let tlsServer: ChildProcess;
let plain: RedisNode;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  tlsPort = await freePort();
  tlsServer = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(tlsPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--tls-cert-file',
      path.join(dir, 'cert.pem'),
      '--tls-key-file',
      path.join(dir, 'key.pem'),
      '--tls-ca-cert-file',
      path.join(dir, 'cert.pem'),
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--appendonly',
      'yes',
    ],
    { stdio: 'ignore' },
  );
  plain = await getProvider().standalone();
  await waitUntil('the TLS server to answer', () => tlsPing(tlsPort), { timeoutMs: 10_000 });
});

afterAll(async () => {
  tlsServer?.kill('SIGKILL');
  await plain?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

function tlsPing(port: number): Promise<true | ReturnType<typeof notYet>> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
      s.write('PING\r\n'),
    );
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG') ? true : notYet(d.toString()));
    });
    s.once('error', (e) => resolve(notYet(e.message)));
  });
}

const TLS_NODE = () => ({ host: '127.0.0.1', port: tlsPort });
const fast = { HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '1s' };

test('store.tls: a TLS-only server with store.redis.tls false fails (78): it expects TLS', async () => {
  const { preflight } = await preflightThenStart(await productionEnv([TLS_NODE()], fast));
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.tls')).toBe(
    `FAIL store.tls                 found 127.0.0.1:${tlsPort} expects TLS; expected plain TCP, since store.redis.tls is false; fix: set store.redis.tls to true (HOLDFAST_STORE__REDIS__TLS=true); for a private CA also start Holdfast with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`,
  );
  // The node did answer: this is not an outage.
  expect(lineOf(preflight.out, 'store.reachable')).toMatch(/^PASS /);
});

test('store.tls: a plain server with store.redis.tls true fails (78): it answers without TLS', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], { ...fast, HOLDFAST_STORE__REDIS__TLS: 'true' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.tls')).toMatch(
    new RegExp(
      `^FAIL store\\.tls +found 127\\.0\\.0\\.1:${plain.port} answers without TLS; expected a TLS handshake, since store\\.redis\\.tls is true; fix: set store\\.redis\\.tls to false`,
    ),
  );
});

test('store.tls: a certificate this machine does not trust fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([TLS_NODE()], { ...fast, HOLDFAST_STORE__REDIS__TLS: 'true' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.tls')).toMatch(
    /^FAIL store\.tls +found 127\.0\.0\.1:\d+ presents a certificate this machine does not trust \(certificate not trusted: self-signed certificate\); expected a certificate signed by a trusted CA; fix: start Holdfast with NODE_EXTRA_CA_CERTS=/,
  );
});

/** `holdfast preflight` as a child process: NODE_EXTRA_CA_CERTS is read once, at process start. */
function preflightProcess(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli/main.ts', 'preflight'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, ...env, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('store.tls: with the CA trusted it passes; under a name the certificate lacks it fails (78)', async () => {
  const trusted = await preflightProcess(
    await productionEnv([TLS_NODE()], { ...fast, HOLDFAST_STORE__REDIS__TLS: 'true' }),
  );
  expect(lineOf(trusted.out.split('\n'), 'store.tls')).toMatch(
    /^PASS store\.tls +found TLS with 1 node; expected TLS \(store\.redis\.tls true\)/,
  );
  expect(trusted.code).toBe(0);
  const byName = await preflightProcess(
    await productionEnv([{ host: 'localhost', port: tlsPort }], {
      ...fast,
      HOLDFAST_STORE__REDIS__TLS: 'true',
    }),
  );
  expect(lineOf(byName.out.split('\n'), 'store.tls')).toMatch(
    new RegExp(
      `^FAIL store\\.tls +found localhost:${tlsPort} presents a certificate for another name \\(.*localhost.*\\); expected a certificate naming the address Holdfast connects to`,
    ),
  );
  expect(byName.code).toBe(78);
});
