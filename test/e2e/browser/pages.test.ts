/**
 * Every page in real Chromium, at a phone width (375 px) and a desktop width (1280 px), in the
 * light and the dark colour scheme: standards mode (a doctype), nothing wider than the window,
 * and an axe-core audit (injected into the page) with no serious or critical violation, colour
 * contrast included. The plugin is mounted under a route prefix, so a link, form action or asset
 * URL that ignored it would show here as a page without its stylesheet or a 404.
 *
 * One browser and two pages for the whole file: each state (login, register, account, the error
 * pages…) is loaded once and audited in the four viewport/scheme combinations without reloading.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { getProvider, RedisNode } from '../../harness';
import { buildRedisTestApp, RedisTestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

jest.setTimeout(180_000);

const SHOTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PREFIX = '/id';
const PASSWORD = 'correct horse battery';
const WIDTHS = [375, 1280] as const;
/** WCAG 2.0-2.2 A and AA rules (color-contrast among them) and axe's best practices. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const SCHEMES = ['light', 'dark'] as const;
/** The page background each scheme must get from holdfast.css (proves the stylesheet loaded). */
const BACKGROUND = { light: 'rgb(255, 255, 255)', dark: 'rgb(18, 18, 18)' };

let node: RedisNode;
let app: RedisTestApp;
let browser: Browser;
let base: string;
const audited: string[] = [];

beforeAll(async () => {
  node = await getProvider().standalone();
  const settings = testSettings({
    store: {
      type: 'redis',
      redis: { mode: 'standalone', nodes: [`${node.host}:${node.port}`], commandTimeout: '500ms' },
    },
    // A provider button on the login and register pages (never followed here).
    oauth: { github: { clientId: 'id', clientSecret: 'secret' } },
  });
  app = await buildRedisTestApp(settings, { prefix: PREFIX });
  await app.server.start();
  base = `http://127.0.0.1:${app.server.info.port}${PREFIX}`;
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await node?.destroy();
});

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/**
 * Audits the page as it is loaded, in every width and scheme: returns one line per problem (an
 * empty list is a pass), and keeps a screenshot of each combination.
 */
async function audit(page: Page, name: string): Promise<string[]> {
  const problems: string[] = [];
  await page.evaluate(AXE);
  for (const width of WIDTHS) {
    for (const scheme of SCHEMES) {
      await page.setViewportSize({ width, height: 800 });
      await page.emulateMedia({ colorScheme: scheme });
      const where = `${name} at ${width}px ${scheme}`;
      // Strings, not functions: this project compiles without the DOM types.
      const facts = (await page.evaluate(`({
        mode: document.compatMode,
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        background: getComputedStyle(document.body).backgroundColor,
      })`)) as { mode: string; scrollWidth: number; innerWidth: number; background: string };
      if (facts.mode !== 'CSS1Compat') problems.push(`${where}: ${facts.mode} (quirks mode)`);
      if (facts.scrollWidth > facts.innerWidth)
        problems.push(`${where}: ${facts.scrollWidth}px wide in a ${facts.innerWidth}px window`);
      if (facts.background !== BACKGROUND[scheme])
        problems.push(`${where}: background ${facts.background}: holdfast.css did not apply`);
      const violations = (await page.evaluate(`axe
        .run(document, {
          runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} },
          resultTypes: ['violations'],
        })
        .then((r) => r.violations)`)) as Violation[];
      for (const v of violations) {
        if (v.impact !== 'serious' && v.impact !== 'critical') continue;
        const nodes = v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`);
        problems.push(`${where}: ${v.impact} ${v.id} (${v.help}) at ${nodes.join(' | ')}`);
      }
      await page.screenshot({
        path: join(SHOTS, `${name}-${width}-${scheme}.png`),
        fullPage: true,
      });
      audited.push(where);
    }
  }
  return problems;
}

/**
 * Submits the form whose action ends with `action`, as the browser would, after setting some of
 * its fields or its action: how a forged crumb or an oversized form reaches the server.
 */
async function submit(
  page: Page,
  action: string,
  edit: { fields?: Record<string, string>; action?: string },
): Promise<void> {
  await Promise.all([
    page.waitForNavigation(),
    page.evaluate(`(() => {
      const edit = ${JSON.stringify(edit)};
      const form = document.querySelector(${JSON.stringify(`form[action$='${action}']`)});
      for (const [name, value] of Object.entries(edit.fields ?? {}))
        form.elements.namedItem(name).value = value;
      if (edit.action) form.action = edit.action;
      form.submit();
    })()`),
  ]);
}

async function signedInAs(ctx: BrowserContext, email: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${base}/register`);
  await page.getByLabel('Name (optional)').fill('Grace Hopper');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${base}/account`);
  return page;
}

test('every page, 375 px and 1280 px, light and dark: standards mode, no overflow, no serious axe violation', async () => {
  const started = Date.now();
  const problems: string[] = [];
  const anonymous = await browser.newContext();
  const signedIn = await browser.newContext({
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  });
  const email = `pages.audit.${Date.now()}.with.a.rather.long.address@example.com`;
  const me = await signedInAs(signedIn, email);
  // Two more devices, one on an IPv6 address: the widest cells the sessions table can have.
  for (const [ua, ip] of [
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148',
      '2001:db8:85a3::8a2e:370:7334',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0',
      '198.51.100.23',
    ],
  ]) {
    const r = await call(
      app.server,
      new Jar(),
      'POST',
      `${PREFIX}/auth/login`,
      { email, password: PASSWORD },
      { 'user-agent': ua, 'x-test-ip': ip },
    );
    expect(r.statusCode).toBe(200);
  }

  // The account page with its notice, three sessions, the confirm and password forms.
  await me.goto(`${base}/account?done=revoked`);
  expect(await me.locator('#sessions tbody tr').count()).toBe(3);
  problems.push(...(await audit(me, 'account')));

  // The account page with an error in place (a wrong current password: 403).
  await me.getByLabel('Current password').fill('not my password');
  await me.getByLabel(/^New password/).fill('a brand new password');
  await me.getByRole('button', { name: 'Change password' }).click();
  await me.waitForLoadState('load');
  expect(await me.getByRole('alert').textContent()).toMatch(/\S/);
  problems.push(...(await audit(me, 'account-error')));

  await me.goto(`${base}/logout`);
  problems.push(...(await audit(me, 'logout')));

  const anon = await anonymous.newPage();
  await anon.goto(`${base}/login`);
  problems.push(...(await audit(anon, 'login')));

  // The login page with its error (the error colour must read in both schemes).
  await anon.getByLabel('Email').fill(email);
  await anon.getByLabel('Password').fill('not my password');
  await anon.getByRole('button', { name: 'Log in' }).click();
  await anon.waitForLoadState('load');
  expect(await anon.getByRole('alert').textContent()).toMatch(/password is wrong/);
  problems.push(...(await audit(anon, 'login-error')));

  await anon.goto(`${base}/register`);
  problems.push(...(await audit(anon, 'register')));

  // Error pages, reached the way a browser reaches them: form posts.
  await me.goto(`${base}/account`);
  await submit(me, '/account/password', { fields: { crumb: 'forged' } });
  expect(await me.locator('#error-code').textContent()).toBe('HF_CSRF');
  problems.push(...(await audit(me, 'error-403')));

  await me.goto(`${base}/account`);
  await submit(me, '/account/sessions/revoke-others', {
    action: `${base}/account/oauth/nope/link`,
  });
  expect(await me.locator('h1').textContent()).toBe('Not found');
  problems.push(...(await audit(me, 'error-404')));

  await anon.goto(`${base}/login`);
  await submit(anon, '/login', {
    fields: { email: 'a@example.com', password: 'x'.repeat(20_000) },
  });
  expect(await anon.locator('h1').textContent()).toBe('That form was too large');
  problems.push(...(await audit(anon, 'error-413')));

  // The store goes away: the signed-in browser gets a 503 page, not a logout.
  await node.stop();
  const outage = await me.goto(`${base}/account`);
  expect(outage?.status()).toBe(503);
  expect(outage?.headers()['retry-after']).toMatch(/^\d+$/);
  expect(await me.locator('#error-code').textContent()).toBe('HF_STORE_UNAVAILABLE');
  problems.push(...(await audit(me, 'error-503')));
  // Back, so the engine can quit cleanly.
  await node.start();

  await Promise.all([anonymous.close(), signedIn.close()]);
  expect(problems).toEqual([]);
  expect(audited).toHaveLength(10 * WIDTHS.length * SCHEMES.length);
  // How long the audit takes (docs/testing.md quotes it): printed, not asserted.
  process.stdout.write(
    `pages audit: ${audited.length} page states in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
});
