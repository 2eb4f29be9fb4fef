import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium } from './chromium';
import { buildTestApp, TestApp } from '../../support/app';

jest.setTimeout(120_000);

const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
let app: TestApp;
let browser: Browser;
let base: string;

beforeAll(async () => {
  app = await buildTestApp({ pages: true });
  await app.server.start();
  base = `http://127.0.0.1:${app.server.info.port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.server.stop();
});

async function login(ctx: BrowserContext, email: string, password: string) {
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/account`);
  return page;
}

test('register, log in from a second browser, see two sessions, revoke one, change the password', async () => {
  const email = `browser.${Date.now()}@example.com`;
  const first = await browser.newContext({ userAgent: 'FirstBrowser/1.0' });
  const page = await first.newPage();
  await page.goto(`${base}/register`);
  await page.getByLabel('Name (optional)').fill('Grace');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/account`);
  expect(await page.locator('#who').textContent()).toBe(email);

  // The session cookie is HttpOnly: page scripts cannot read it.
  expect(await page.evaluate('document.cookie')).toBe('');
  const cookie = (await first.cookies()).find((c) => c.name === 'holdfast');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');

  const second = await browser.newContext({ userAgent: 'SecondBrowser/2.0' });
  const other = await login(second, email, 'correct horse battery');
  expect(await other.locator('#who').textContent()).toBe(email);

  await page.reload();
  await expect(page.locator('#sessions tbody tr').count()).resolves.toBe(2);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'account.png'), fullPage: true });

  // Revoke the second browser's session from the first.
  await page.getByRole('button', { name: /Sign out this device: SecondBrowser/ }).click();
  await page.waitForURL(`${base}/account?done=revoked`);
  await expect(page.locator('#sessions tbody tr').count()).resolves.toBe(1);
  await other.goto(`${base}/account`);
  expect(other.url()).toBe(`${base}/login`);

  // Change the password; the old one stops working.
  await page.getByLabel('Current password').fill('correct horse battery');
  await page.getByLabel(/^New password/).fill('a brand new password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForURL(`${base}/account?done=password`);
  expect(await page.getByRole('status').textContent()).toMatch(/password is changed/);

  const third = await browser.newContext();
  const p3 = await third.newPage();
  await p3.goto(`${base}/login`);
  await p3.getByLabel('Email').fill(email);
  await p3.getByLabel('Password').fill('correct horse battery');
  await p3.getByRole('button', { name: 'Log in' }).click();
  expect(await p3.getByRole('alert').textContent()).toMatch(/email address or password is wrong/);
  await login(third, email, 'a brand new password');

  // Log out from the header button.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${base}/login`);
  await page.goto(`${base}/account`);
  expect(page.url()).toBe(`${base}/login`);
  await Promise.all([first.close(), second.close(), third.close()]);
});

test('delete my account from /account: the box must be ticked, an old confirmation asks again, then every browser is signed out and the address is free', async () => {
  const email = `browser.delete.${Date.now()}@example.com`;
  const password = 'correct horse battery';
  const first = await browser.newContext();
  const page = await first.newPage();
  await page.goto(`${base}/register`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/account`);
  const second = await browser.newContext();
  const other = await login(second, email, password);

  // Unticked: the browser itself refuses to send the form (the box is required).
  await page.getByRole('button', { name: 'Delete my account' }).click();
  expect(page.url()).toBe(`${base}/account`);
  expect(
    await page
      .locator('#confirmDelete')
      .evaluate((e) => (e as unknown as { validity: { valid: boolean } }).validity.valid),
  ).toBe(false);

  // Past auth.reauthWindow: the page asks to confirm first, nothing is deleted.
  app.clock.now += app.settings.auth.reauthWindow + 1;
  await page.reload();
  await page.getByLabel(/I understand that my account/).check();
  await page.getByRole('button', { name: 'Delete my account' }).click();
  expect(await page.getByRole('alert').textContent()).toMatch(/^confirm your password/);
  expect(await app.users.findByEmail(email)).not.toBeNull();

  await page.getByLabel('Your password').fill(password);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.waitForURL(`${base}/account?done=reauth`);
  await page.getByLabel(/I understand that my account/).check();
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.waitForURL(`${base}/login?done=deleted`);
  expect(await page.getByRole('status').textContent()).toBe('Your account is deleted.');
  expect(await first.cookies()).toEqual([]);
  await other.goto(`${base}/account`);
  expect(other.url()).toBe(`${base}/login`);
  expect(await app.users.findByEmail(email)).toBeNull();
  await Promise.all([first.close(), second.close()]);
});
