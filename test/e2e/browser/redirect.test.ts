/**
 * auth.redirectTo in real Chromium (ADR 087): a navigation to a protected page ends on the login
 * page with `next`, signing in lands back on that page, and a script's fetch() of the same route
 * from the page still gets the 401 JSON (Chromium's own Accept headers decide, not a test's).
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium';
import { buildTestApp, TestApp } from '../../support/app';
import { call } from '../../support/inject';

jest.setTimeout(120_000);

let app: TestApp;
let browser: Browser;
let base: string;

beforeAll(async () => {
  app = await buildTestApp({ pages: true });
  app.server.route({
    method: 'GET',
    path: '/reports',
    handler: (r) =>
      `reports for ${r.query.year} of ${(r.auth.credentials as unknown as { user: { id: string } }).user.id}`,
  });
  await app.server.start();
  base = `http://127.0.0.1:${app.server.info.port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.server.stop();
});

test('a protected page sends Chromium to the login page and back after signing in', async () => {
  const email = `redirect.browser.${Date.now()}@example.com`;
  const reg = await call(app.server, null, 'POST', '/auth/register', {
    email,
    password: 'correct horse battery',
  });
  const userId = JSON.parse(reg.payload).user.id as string;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/reports?year=2026`);
  expect(page.url()).toBe(`${base}/login?next=${encodeURIComponent('/reports?year=2026')}`);

  // A script asking for the same route gets the API answer, not a redirect. (From the stylesheet's
  // URL: the login page's CSP, default-src 'none', lets no script fetch anything.)
  const scripted = await ctx.newPage();
  await scripted.goto(`${base}/auth/assets/holdfast.css`);
  const fetched = await scripted.evaluate(async () => {
    const r = await fetch('/reports?year=2026', { redirect: 'manual' });
    return { status: r.status, type: r.headers.get('content-type') };
  });
  expect(fetched.status).toBe(401);
  expect(fetched.type).toMatch(/^application\/json/);

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/reports?year=2026`);
  expect(await page.textContent('body')).toBe(`reports for 2026 of ${userId}`);
  await ctx.close();
});

test('a login link with an off-site next lands on /account in Chromium', async () => {
  const email = `redirect.evil.${Date.now()}@example.com`;
  await call(app.server, null, 'POST', '/auth/register', {
    email,
    password: 'correct horse battery',
  });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  for (const next of ['//example.com/', '/\\example.com/', '/%2F%2Fexample.com/']) {
    await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/account`);
    expect(new URL(page.url()).origin).toBe(base);
    // Signed out again for the next form.
    await ctx.clearCookies();
  }
  await ctx.close();
});
