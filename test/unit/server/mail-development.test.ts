/**
 * `make run` with no mail server: a development node (the defaults: mail.transport log) offers
 * password reset, and the message with its link is written to the node's log, where the link
 * works. The log here is in memory (it holds a real token, as a development log does).
 */
import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';

const lines: string[] = [];
let node: RunningNode;

beforeAll(async () => {
  const settings = loadSettings({
    env: {
      HOLDFAST_ENV: 'development',
      HOLDFAST_HTTP__HOST: '127.0.0.1',
      HOLDFAST_HTTP__PORT: '0',
      HOLDFAST_METRICS__ENABLED: 'false',
      HOLDFAST_PASSWORD__COST: '4096',
      HOLDFAST_SHUTDOWN__DRAIN_DELAY: '0s',
    },
  });
  expect(settings.mail.transport).toBe('log');
  const logger = createLogger('info', { write: (l: string) => lines.push(l) });
  node = await startNode(settings, { logger });
});

afterAll(async () => {
  await node?.shutdown('test over');
});

test('a reset request in development: the message and its link go to the log, and the link works', async () => {
  const base = node.server.info.uri;
  const email = 'dev.reset@example.com';
  await node.services.accounts.createUser({ email, password: 'correct horse battery' });
  const r = await fetch(`${base}/auth/password-reset`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  expect(r.status).toBe(202);
  await node.services.passwordReset?.idle();
  const mail = lines.map((l) => JSON.parse(l)).find((l) => l.mail === 'reset');
  expect(mail).toMatchObject({ to: email, subject: 'Reset your password' });
  const link = /http:\/\/localhost:3000(\/reset-password\?token=[A-Za-z0-9_.-]+)/.exec(mail.body);
  expect(link).not.toBeNull();
  const page = await fetch(`${base}${link?.[1]}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("name='token'");
});
