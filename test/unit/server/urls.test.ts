import { loadSettings } from '../../../src/config';
import { developmentUrls } from '../../../src/server/urls';

/** The addresses the primary prints in development once every worker listens. */
function settings(env: Record<string, string>) {
  return loadSettings({ env: { HOLDFAST_ENV: 'development', ...env } });
}

test('a wildcard listen address becomes localhost; the port is the one really bound', () => {
  const s = settings({ HOLDFAST_HTTP__PORT: '0', HOLDFAST_METRICS__PORT: '9500' });
  expect(developmentUrls(s, 'http://0.0.0.0:41234')).toEqual([
    'holdfast: ready (env development), open:',
    '  sign in   http://localhost:41234/login',
    '  account   http://localhost:41234/account',
    '  health    http://localhost:41234/health/ready',
    '  metrics   http://localhost:9500/metrics',
  ]);
});

test('a named host is kept (IPv6 in brackets); no metrics line when metrics are off', () => {
  const s = settings({ HOLDFAST_HTTP__HOST: '::1', HOLDFAST_METRICS__ENABLED: 'false' });
  const lines = developmentUrls(s, 'http://[::1]:3000');
  expect(lines).toContain('  sign in   http://[::1]:3000/login');
  expect(lines.some((l) => l.includes('/metrics'))).toBe(false);
});
