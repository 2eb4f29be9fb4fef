/**
 * The host app's hooks as a client meets them (ADR 120): a refusal answers 4xx with the hook's
 * message in the JSON API and on the register and login pages; a throwing before-hook answers a
 * clean 500 and the log names the hook; a throwing after-hook changes nothing in the answer.
 * Memory store, server.inject, the project's own logger writing into an array.
 */
import Hapi from '@hapi/hapi';
import type { AccountHooks } from '../../../src/accounts';
import { createLogger } from '../../../src/log/logger';
import { holdfastPlugin } from '../../../src/plugin';
import { buildTestApp, TestApp } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
let seq = 0;
const email = (tag: string) => `hooks.${tag}.${process.pid}.${++seq}@example.com`;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
/** The JSON API's register or login (`path`) with an address and (by default) PASSWORD. */
const post = (app: TestApp, jar: Jar | null, path: string, address: string, password = PASSWORD) =>
  call(app.server, jar, 'POST', path, { email: address, password });
/** The register or login page's form (`path`) submitted as a browser does, with PASSWORD. */
const submit = (app: TestApp, jar: Jar, path: string, address: string) =>
  call(app.server, jar, 'POST', path, form({ email: address, password: PASSWORD }), FORM);

/** A plugin whose logger writes JSON lines into `lines`. */
async function appWith(hooks: AccountHooks) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', {
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  });
  const app = await buildTestApp({ pages: true, hooks, extra: { logger } });
  const raw = () => JSON.stringify(lines);
  return { app, lines, raw };
}

/** Banned addresses are refused at login; company-only registration. */
const banned = new Set<string>();
const policy: AccountHooks = {
  beforeRegister: ({ email: address }) =>
    address.startsWith('hooks.outsider.')
      ? { refuse: 'registration is for invited addresses only' }
      : undefined,
  beforeLogin: ({ user }) =>
    banned.has(user.email) ? { refuse: 'this account is suspended: write to support' } : undefined,
};

describe('JSON API', () => {
  test('a beforeRegister refusal: 403 HF_REGISTRATION_REFUSED with the hook message, no account, no cookie', async () => {
    const { app } = await appWith(policy);
    const address = email('outsider');
    const res = await post(app, new Jar(), '/auth/register', address);
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.payload)).toMatchObject({
      code: 'HF_REGISTRATION_REFUSED',
      message: 'registration is for invited addresses only',
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await app.users.findByEmail(address)).toBeNull();
    const ok = await post(app, null, '/auth/register', email('member'));
    expect(ok.statusCode).toBe(201);
  });

  test('a beforeLogin refusal: 403 HF_LOGIN_REFUSED with the hook message, no session; the wrong password is still 401', async () => {
    const { app } = await appWith(policy);
    const address = email('member');
    const reg = await post(app, null, '/auth/register', address);
    const userId = JSON.parse(reg.payload).user.id as string;
    banned.add(address);
    const wrong = await post(app, null, '/auth/login', address, 'wrong password!');
    expect([wrong.statusCode, JSON.parse(wrong.payload).code]).toEqual([401, 'HF_LOGIN_FAILED']);
    const jar = new Jar();
    const res = await post(app, jar, '/auth/login', address);
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.payload)).toMatchObject({
      code: 'HF_LOGIN_REFUSED',
      message: 'this account is suspended: write to support',
    });
    expect(jar.cookies.size).toBe(0);
    expect((await app.sessions.list(userId)).length).toBe(1); // the registration's only
    expect(app.events.stats.loginFailures.refused).toBe(1);
  });

  test('a throwing beforeRegister: a clean 500 HF_HOOK_FAILED, no account, and the log names the hook without the password', async () => {
    const { app, lines, raw } = await appWith({
      beforeRegister: async () => {
        throw new Error('CRM unreachable');
      },
    });
    const address = email('crm');
    const res = await post(app, new Jar(), '/auth/register', address);
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.payload);
    expect(body.code).toBe('HF_HOOK_FAILED');
    expect(body.message).toBe('An internal server error occurred');
    expect(res.payload).not.toContain('CRM unreachable');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await app.users.findByEmail(address)).toBeNull();
    const line = lines.find((l) => l.audit === 'hook_failed');
    expect(line).toMatchObject({
      level: 50,
      hook: 'beforeRegister',
      msg: 'the beforeRegister hook failed',
      err: expect.objectContaining({ message: 'CRM unreachable' }),
    });
    expect(raw()).not.toContain(PASSWORD);
  });

  test('a throwing afterRegister, afterLogin, afterPasswordChange, afterLogout: every answer stands, each failure is logged at error by name', async () => {
    const fail = (what: string) => async () => {
      throw new Error(`${what} webhook down`);
    };
    const { app, lines, raw } = await appWith({
      afterRegister: fail('register'),
      afterLogin: fail('login'),
      afterPasswordChange: fail('password'),
      afterLogout: fail('logout'),
    });
    const address = email('after');
    const jar = new Jar();
    const reg = await post(app, jar, '/auth/register', address);
    expect(reg.statusCode).toBe(201);
    expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    const login = await post(app, jar, '/auth/login', address);
    expect(login.statusCode).toBe(200);
    const pw = await call(app.server, jar, 'POST', '/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'a new password!',
    });
    expect(pw.statusCode).toBe(200);
    expect((await call(app.server, jar, 'POST', '/auth/logout')).statusCode).toBe(204);
    expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
    const logged = lines
      .filter((l) => l.audit === 'hook_failed')
      .map((l) => [l.level, l.hook, (l.err as { message: string }).message]);
    expect(logged).toEqual([
      [50, 'afterRegister', 'register webhook down'],
      [50, 'afterLogin', 'login webhook down'],
      [50, 'afterPasswordChange', 'password webhook down'],
      [50, 'afterLogout', 'logout webhook down'],
    ]);
    expect(raw()).not.toContain(PASSWORD);
    expect(raw()).not.toContain('a new password!');
  });
});

describe('pages', () => {
  test('the register page shows a beforeRegister refusal above the form (403), with the address kept', async () => {
    const { app } = await appWith(policy);
    const address = email('outsider');
    const res = await submit(app, new Jar(), '/register', address);
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).message).toBe('registration is for invited addresses only');
    expect(res.payload).toContain(`value='${address}'`);
    expect(res.payload).not.toContain(PASSWORD);
    expect(await app.users.findByEmail(address)).toBeNull();
  });

  test('the login page shows a beforeLogin refusal (403) and signs nobody in', async () => {
    const { app } = await appWith(policy);
    const address = email('member');
    await post(app, null, '/auth/register', address);
    banned.add(address);
    const jar = new Jar();
    const res = await submit(app, jar, '/login', address);
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).message).toBe('this account is suspended: write to support');
    // The login form itself, with the address kept (not the generic error page).
    expect(res.payload).toContain(`value='${address}'`);
    expect(jar.cookies.size).toBe(0);
  });

  test('a throwing beforeLogin answers the 500 error page with HF_HOOK_FAILED, not the hook text', async () => {
    const { app } = await appWith({
      beforeLogin: () => {
        throw new Error('billing API timeout');
      },
    });
    const address = email('billing');
    await post(app, null, '/auth/register', address);
    const res = await submit(app, new Jar(), '/login', address);
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe('HF_HOOK_FAILED');
    expect(res.payload).not.toContain('billing API timeout');
  });
});

test('hooks given to the plugin are refused with a pointer to createServices', async () => {
  const ok = await buildTestApp({ pages: false });
  const options = {
    settings: ok.settings,
    sessions: ok.sessions,
    accounts: ok.accounts,
    hooks: { beforeLogin: () => undefined },
  };
  await expect(
    Hapi.server().register({ plugin: holdfastPlugin, options: options as never }),
  ).rejects.toThrow(
    '"hooks" belong to the account service: pass them to createServices as its option hooks',
  );
});
