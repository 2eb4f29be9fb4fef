import type { Settings } from '../config';

/**
 * The addresses a developer opens after `make run`, printed by the primary once every worker
 * listens (development only: in production the logs and the orchestrator say where the node is).
 * `listening` is a worker's server.info.uri, which carries the real port even when http.port is 0.
 */
export function developmentUrls(settings: Settings, listening: string): string[] {
  const port = new URL(listening).port || String(settings.http.port);
  const base = `http://${browsable(settings.http.host)}:${port}`;
  const lines = [
    `holdfast: ready (env ${settings.env}), open:`,
    `  sign in   ${base}/login`,
    `  account   ${base}/account`,
    `  health    ${base}/health/ready`,
  ];
  if (settings.metrics.enabled) {
    lines.push(
      `  metrics   http://${browsable(settings.metrics.host)}:${settings.metrics.port}/metrics`,
    );
  }
  return lines;
}

/** A wildcard listen address is not one a browser can open: use localhost for it. */
function browsable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
