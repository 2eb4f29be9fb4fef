/**
 * "Forgot password" end to end in Debian's Chromium: the login page's link, the form, the mail
 * (received by a real SMTP server on loopback and parsed), the emailed link opened in the
 * browser, a new password, and signing in with it; the old one no longer works.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { linkIn, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { buildResetApp, ResetApp } from '../../unit/plugin/reset-app';

jest.setTimeout(120_000);

const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const OLD = 'correct horse battery';
const NEW = 'tangerine kettle orbit';
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The WCAG A/AA rules and best practices test/e2e/browser/pages.test.ts audits every page with. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
/** Serious or critical axe violations of the page as it is, at a phone and a desktop width, light and dark. */
async function violations(page: Page, name: string): Promise<string[]> {
  const out: string[] = [];
  await page.evaluate(AXE);
  for (const [width, scheme] of [
    [375, 'dark'],
    [1280, 'light'],
  ] as const) {
    await page.setViewportSize({ width, height: 800 });
    await page.emulateMedia({ colorScheme: scheme });
    const found = (await page.evaluate(`axe
      .run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} }, resultTypes: ['violations'] })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact })))`)) as Array<{
      id: string;
      impact: string;
    }>;
    for (const v of found)
      if (v.impact === 'serious' || v.impact === 'critical')
        out.push(`${name} ${width}px ${scheme}: ${v.id}`);
  }
  return out;
}

let smtp: TestSmtpServer;
let app: ResetApp;
let browser: Browser;
let base: string;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The emailed link must lead back to this server: mail.linkBase is its address.
  app = await buildResetApp(smtp, { linkBase: base, port });
  await app.server.start();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.server.stop();
  await app?.services.mailer?.close();
  await smtp?.stop();
});

test('forgot password → mail → reset page → sign in with the new password', async () => {
  const email = `browser.reset.${Date.now()}@example.com`;
  await app.services.accounts.createUser({ email, password: OLD });
  expect((await smtp.nextTo(email)).kind).toBe('verify');

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(`${base}/forgot-password`);
  const problems = await violations(page, 'forgot-password');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  expect(await page.locator('#reset-sent').textContent()).toMatch(/If an account has this address/);
  problems.push(...(await violations(page, 'forgot-password sent')));

  const mail = await smtp.nextTo(email);
  const link = linkIn(mail, '/reset-password');
  expect(link.origin).toBe(base);

  const reset = await ctx.newPage();
  const response = await reset.goto(link.href);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['referrer-policy']).toBe('strict-origin');
  problems.push(...(await violations(reset, 'reset-password')));
  await reset.getByLabel(/^New password/).fill(NEW);
  await reset.getByRole('button', { name: 'Set the new password' }).click();
  await reset.waitForURL(`${base}/login?done=reset`);
  expect(await reset.getByRole('status').textContent()).toMatch(/log in with the new password/);
  mkdirSync(ARTIFACTS, { recursive: true });
  await reset.screenshot({ path: join(ARTIFACTS, 'password-reset.png'), fullPage: true });

  await reset.getByLabel('Email').fill(email);
  await reset.getByLabel('Password').fill(NEW);
  await reset.getByRole('button', { name: 'Log in' }).click();
  await reset.waitForURL(`${base}/account`);
  expect(await reset.locator('#who').textContent()).toBe(email);

  // The link was single-use, and the old password no longer signs in.
  const again = await (await browser.newContext()).newPage();
  expect((await again.goto(link.href))?.status()).toBe(400);
  expect(await again.locator('#error-code').textContent()).toBe('HF_ACCOUNT_TOKEN_INVALID');
  problems.push(...(await violations(again, 'reset-password invalid link')));
  expect(problems).toEqual([]);
  await again.goto(`${base}/login`);
  await again.getByLabel('Email').fill(email);
  await again.getByLabel('Password').fill(OLD);
  await again.getByRole('button', { name: 'Log in' }).click();
  expect(await again.getByRole('alert').textContent()).toMatch(
    /email address or password is wrong/,
  );
  expect(again.url()).toBe(`${base}/login`);
});
