/**
 * The `holdfast-library-me` stack of bench/server-overhead.ts: the Holdfast plugin embedded in a
 * bare Hapi server, as README shows an app doing it, with the settings `holdfast start` reads
 * (file + HOLDFAST_* env). No access log, no metrics, one process: what the plugin alone costs.
 * Plain JavaScript over the build (dist/), like `node dist/cli/main.js start` beside it: ts-node
 * would load node:repl and with it node:domain, which slows every EventEmitter in the process.
 * Prints one line, `listening <uri>`, once it serves; SIGTERM stops it.
 *
 * It is also the `holdfast-strict` and `holdfast-near-cache` stacks of bench/side-by-side.ts: GET
 * /me answers the same small JSON as every stack there, `{"id": <user id>}`, behind the plugin's
 * default strategy (the near cache is a setting, HOLDFAST_NEARCACHE__ENABLED). With BENCH_SEED=1
 * it also serves POST /bench/login `{"user": "..."}`: a user record with no password and a real
 * session for it, the session cookie set as the plugin sets it. Signing in is not measured; this
 * spares the bench 50 password hashes at the production cost (minutes on a loaded machine).
 */
'use strict';
const Hapi = require('@hapi/hapi');
const { createServices, holdfastPlugin, loadSettings } = require('../dist');

async function main() {
  const settings = loadSettings();
  // engine: the store behind the near cache (its subscription starts with it) and the timing.
  const { engine, sessions, accounts } = createServices(settings);
  await engine.start();
  const server = Hapi.server({ host: settings.http.host, port: settings.http.port });
  await server.register({ plugin: holdfastPlugin, options: { settings, sessions, accounts } });
  if (process.env.BENCH_SEED === '1') {
    const { cookieNames } = require('../dist/auth');
    server.route({
      method: 'POST',
      path: '/bench/login',
      options: { auth: false },
      handler: async (request, h) => {
        const email = `${request.payload.user}@example.com`;
        const user = await accounts.users.create({ email, passwordHash: null });
        const client = { ip: request.info.remoteAddress, userAgent: 'bench' };
        const issued = await sessions.create(user.id, client, 'password');
        h.state(cookieNames(settings.cookie).session, issued.token);
        return { ok: true };
      },
    });
  }
  // The same answer with the plugin registered but no session check: what the plugin's
  // server-wide extensions cost apart from authentication (bench profiling, not in the table).
  server.route({
    method: 'GET',
    path: '/bench/free',
    options: { auth: false },
    handler: () => ({ id: 'free' }),
  });
  server.route({
    method: 'GET',
    path: '/me',
    handler: (request) => ({ id: request.auth.credentials.user.id }),
  });
  await server.start();
  process.stdout.write(`listening ${server.info.uri}\n`);
  process.once('SIGTERM', () => {
    server
      .stop({ timeout: 2000 })
      .then(() => engine.stop())
      .then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
