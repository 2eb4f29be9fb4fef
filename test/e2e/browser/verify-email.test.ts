/**
 * Email verification in Chromium, end to end on the pages: register, receive the message on a
 * real SMTP server, open its link (the /verify-email page), press the button, and see the account
 * page say the address is confirmed. The link is followed as mailed: mail.linkBase is this
 * server's own origin.
 */
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium';
import { linkIn, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { buildTestApp, TestApp, testSettings } from '../../support/app';

jest.setTimeout(120_000);

let app: TestApp;
let smtp: TestSmtpServer;
let browser: Browser;
let base: string;

/** A port nothing listens on now, so the link base can name it before the server starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = await buildTestApp({
    settings: testSettings({ mail: smtp.mailSettings(base) }),
    port,
  });
  await app.server.start();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.server.stop();
  await app?.verification?.idle();
  await smtp?.stop();
});

test('register, open the mailed link, confirm on the page, and /account says the address is confirmed', async () => {
  const email = `browser.verify.${Date.now()}@example.com`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/register`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/account`);
  await expect(page.locator('#email-state').textContent()).resolves.toMatch(
    /not\s+confirmed\s+yet/,
  );

  const mail = await smtp.nextTo(email);
  expect(mail.kind).toBe('verify');
  const link = linkIn(mail, '/verify-email');
  expect(link.origin).toBe(base);

  // Opening the link shows a button and changes nothing yet (a scanner's GET is harmless).
  const landing = await page.goto(link.toString());
  expect(landing?.status()).toBe(200);
  // The token in this URL leaves in no Referer (origin only), and the button's POST still carries
  // a real Origin (under no-referrer Chromium sends Origin: null, which the CSRF check refuses).
  expect(landing?.headers()['referrer-policy']).toBe('strict-origin');
  expect((await app.users.findByEmail(email))?.emailVerified).toBe(false);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page.locator('#verified').textContent()).resolves.toBe(
    'Your email address is confirmed.',
  );
  expect((await app.users.findByEmail(email))?.emailVerified).toBe(true);

  await page.getByRole('link', { name: 'Go to your account' }).click();
  await page.waitForURL(`${base}/account`);
  await expect(page.locator('#email-state').textContent()).resolves.toMatch(
    /Your\s+email\s+address\s+is\s+confirmed\./,
  );
  await expect(page.locator('#resend').count()).resolves.toBe(0);

  // The same link again: the page says it is not valid, with a 400.
  const again = await page.goto(link.toString());
  expect(again?.status()).toBe(200);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page.getByRole('alert').textContent()).resolves.toMatch(/this link is not valid/);
  await ctx.close();
});
