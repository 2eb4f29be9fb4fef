/**
 * The stacks of bench/side-by-side.ts other than Holdfast's own plugin (bench/library-server.js)
 * and `holdfast start`: one process per stack, named by BENCH_STACK, on 127.0.0.1:BENCH_PORT,
 * Redis from BENCH_REDIS_MODE (cluster | standalone) and BENCH_REDIS_NODES (host:port,...).
 *
 * Each serves GET /me, the measured route, answering the same small JSON, `{"id": <user id>}`,
 * behind its session check, and POST /bench/login with `{"user": "..."}`, which signs that user
 * in and sets the stack's session cookie. Logging in is not measured, so the peers take the user
 * as given (no password); the Holdfast cookie adapter creates a real Holdfast session.
 *
 * The peers are set up as their own documentation shows:
 * - `bare`: Hapi, no auth.
 * - `hapi-cookie`: @hapi/cookie, the user id in the iron-sealed cookie, `validate` accepts it.
 * - `catbox-redis`, `catbox-redis-keepalive`: @hapi/cookie holding a session id, the session in
 *   `server.cache` on @hapi/catbox-redis over a Redis Cluster client (its `cluster` option);
 *   `validate` reads it, as @hapi/cookie's README example does; the second with `keepAlive: true`.
 * - `connect-redis`, `connect-redis-rolling`: Express 5 + express-session + connect-redis 7 on an
 *   ioredis Cluster client (`resave: false, saveUninitialized: false`); the second `rolling: true`.
 * - `holdfast-cookie-adapter`: @hapi/cookie with Holdfast as `validate` (src/auth/cookie-adapter.ts),
 *   the settings from HOLDFAST_* env as every Holdfast stack of the run.
 *
 * Plain JavaScript over the build, like library-server.js (ts-node would slow every EventEmitter).
 * Prints `listening <uri>` once it serves; SIGTERM stops it.
 */
'use strict';
const crypto = require('node:crypto');

const STACK = process.env.BENCH_STACK;
const PORT = Number(process.env.BENCH_PORT);
const COOKIE_PASSWORD = crypto.randomBytes(32).toString('hex');
const TTL_MS = 30 * 60 * 1000;

function redisNodes() {
  return (process.env.BENCH_REDIS_NODES || '').split(',').map((hostPort) => {
    const at = hostPort.lastIndexOf(':');
    return { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
  });
}

function ioredisClient() {
  const Redis = require('ioredis');
  const nodes = redisNodes();
  return process.env.BENCH_REDIS_MODE === 'standalone'
    ? new Redis(nodes[0])
    : new Redis.Cluster(nodes);
}

function catboxProvider() {
  const { Engine } = require('@hapi/catbox-redis');
  const nodes = redisNodes();
  const options =
    process.env.BENCH_REDIS_MODE === 'standalone'
      ? { host: nodes[0].host, port: nodes[0].port, partition: 'bench' }
      : { cluster: nodes, partition: 'bench' };
  return { constructor: Engine, options };
}

/** A Hapi server; `setup` adds auth and the login route, `/me` answers from `me(request)`. */
async function hapiStack(setup, me) {
  const Hapi = require('@hapi/hapi');
  const server = Hapi.server({
    host: '127.0.0.1',
    port: PORT,
    cache: STACK.startsWith('catbox') ? [{ name: 'redis', provider: catboxProvider() }] : undefined,
  });
  const stop = (await setup(server)) || (async () => {});
  server.route({ method: 'GET', path: '/me', handler: (request) => ({ id: me(request) }) });
  await server.start();
  return async () => {
    await server.stop({ timeout: 2000 });
    await stop();
  };
}

async function cookieAuth(server, options) {
  await server.register(require('@hapi/cookie'));
  server.auth.strategy('session', 'cookie', {
    cookie: { name: 'sid', password: COOKIE_PASSWORD, isSecure: false, ttl: TTL_MS, path: '/' },
    ...options,
  });
  server.auth.default('session');
}

function loginRoute(server, handler) {
  server.route({ method: 'POST', path: '/bench/login', options: { auth: false }, handler });
}

const stacks = {
  bare: () =>
    hapiStack(
      () => undefined,
      () => 'reader',
    ),

  'hapi-cookie': () =>
    hapiStack(
      async (server) => {
        await cookieAuth(server, {
          validate: (request, session) => ({ isValid: true, credentials: { id: session.user } }),
        });
        loginRoute(server, (request) => {
          request.cookieAuth.set({ user: request.payload.user });
          return { ok: true };
        });
      },
      (request) => request.auth.credentials.id,
    ),

  'catbox-redis': () => catboxStack(false),
  'catbox-redis-keepalive': () => catboxStack(true),

  'connect-redis': () => expressStack(false),
  'connect-redis-rolling': () => expressStack(true),

  'holdfast-cookie-adapter': async () => {
    const { createServices, loadSettings, holdfastCookieValidate } = require('../dist');
    const { sessionToken } = require('../dist/auth');
    const { store, sessions } = createServices(loadSettings());
    await store.start();
    return hapiStack(
      async (server) => {
        await cookieAuth(server, { validate: holdfastCookieValidate(sessions) });
        loginRoute(server, async (request) => {
          const issued = await sessions.create(
            request.payload.user,
            { ip: request.info.remoteAddress, userAgent: 'bench' },
            'password',
          );
          request.cookieAuth.set(sessionToken(issued.token));
          return { ok: true };
        });
        return () => store.stop();
      },
      (request) => request.auth.credentials.user.id,
    );
  },
};

/** @hapi/cookie's README: the cookie holds a session id, the session lives in server.cache. */
function catboxStack(keepAlive) {
  return hapiStack(
    async (server) => {
      const cache = server.cache({ cache: 'redis', segment: 'sessions', expiresIn: TTL_MS });
      await cookieAuth(server, {
        keepAlive,
        validate: async (request, session) => {
          const cached = await cache.get(session.sid);
          if (!cached) return { isValid: false };
          return { isValid: true, credentials: cached.account };
        },
      });
      loginRoute(server, async (request) => {
        const sid = crypto.randomUUID();
        await cache.set(sid, { account: { id: request.payload.user } });
        request.cookieAuth.set({ sid });
        return { ok: true };
      });
    },
    (request) => request.auth.credentials.id,
  );
}

/** connect-redis's README: express-session with a RedisStore over the app's client. */
async function expressStack(rolling) {
  const express = require('express');
  const session = require('express-session');
  const { default: RedisStore } = require('connect-redis');
  const client = ioredisClient();
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'bench:sess:' }),
      secret: COOKIE_PASSWORD,
      resave: false,
      saveUninitialized: false,
      rolling,
      cookie: { maxAge: TTL_MS, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.post('/bench/login', express.json(), (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = { id: req.body.user };
      res.json({ ok: true });
    });
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'unauthorized' });
    res.json({ id: req.session.user.id });
  });
  const listener = await new Promise((resolve) => {
    const s = app.listen(PORT, '127.0.0.1', () => resolve(s));
  });
  return async () => {
    const closed = new Promise((resolve) => listener.close(resolve));
    listener.closeAllConnections();
    await closed;
    await client.quit();
  };
}

async function main() {
  const start = stacks[STACK];
  if (!start) throw new Error(`BENCH_STACK=${STACK}: one of ${Object.keys(stacks).join(', ')}`);
  const stop = await start();
  process.stdout.write(`listening http://127.0.0.1:${PORT}\n`);
  process.once('SIGTERM', () => {
    stop().then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
