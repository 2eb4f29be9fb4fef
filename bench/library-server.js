/**
 * The `holdfast-library-me` stack of bench/server-overhead.ts: the Holdfast plugin embedded in a
 * bare Hapi server, as README shows an app doing it, with the settings `holdfast start` reads
 * (file + HOLDFAST_* env). No access log, no metrics, one process: what the plugin alone costs.
 * Plain JavaScript over the build (dist/), like `node dist/cli/main.js start` beside it: ts-node
 * would load node:repl and with it node:domain, which slows every EventEmitter in the process.
 * Prints one line, `listening <uri>`, once it serves; SIGTERM stops it.
 */
'use strict';
const Hapi = require('@hapi/hapi');
const { createServices, holdfastPlugin, loadSettings } = require('../dist');

async function main() {
  const settings = loadSettings();
  const { store, sessions, accounts } = createServices(settings);
  await store.start();
  const server = Hapi.server({ host: settings.http.host, port: settings.http.port });
  await server.register({ plugin: holdfastPlugin, options: { settings, sessions, accounts } });
  await server.start();
  process.stdout.write(`listening ${server.info.uri}\n`);
  process.once('SIGTERM', () => {
    server
      .stop({ timeout: 2000 })
      .then(() => store.stop())
      .then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
