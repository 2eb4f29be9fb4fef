import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem } from '../../../src/errors';
import { envVarFor, loadSettings, pathForEnvVar, redactedSettings } from '../../../src/config';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const PROD = {
  NODE_ENV: 'production',
  HOLDFAST_COOKIE__PASSWORD: 'x'.repeat(40),
  HOLDFAST_STORE__REDIS__NODES: '127.0.0.1:7000,127.0.0.1:7001',
};

describe('loadSettings', () => {
  it('needs no configuration at all in development: memory store, port 3000', () => {
    const s = loadSettings({ env: {} });
    expect(s.env).toBe('development');
    expect(s.store.type).toBe('memory');
    expect(s.http.port).toBe(3000);
    expect(s.session.idleTtl).toBe(30 * 60_000);
    expect(s.session.absoluteTtl).toBe(7 * 86_400_000);
    expect(Object.isFrozen(s.session)).toBe(true);
  });

  it('reads env overrides with __ between levels and upper snake case keys', () => {
    const s = loadSettings({
      env: {
        ...PROD,
        HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '2',
        HOLDFAST_SESSION__IDLE_TTL: '15m',
      },
    });
    expect(s.env).toBe('production');
    expect(s.store.type).toBe('redis');
    expect(s.store.redis.nodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
    expect(s.store.redis.require.replicasPerMaster).toBe(2);
    expect(s.session.idleTtl).toBe(15 * 60_000);
  });

  it('maps setting paths and env var names both ways', () => {
    expect(envVarFor('store.redis.require.replicasPerMaster')).toBe(
      'HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER',
    );
    expect(pathForEnvVar('HOLDFAST_STORE__REDIS__KEY_PREFIX')).toBe('store.redis.keyPrefix');
    expect(pathForEnvVar('HOLDFAST_CONFIG')).toBeUndefined();
  });

  it('reads a YAML file, and env vars win over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-config-'));
    const file = join(dir, 'holdfast.yaml');
    writeFileSync(file, 'http: { port: 4000 }\nsession: { renewAfter: 1m }\nworkers: 3\n');
    const s = loadSettings({ file, env: { HOLDFAST_HTTP__PORT: '5000' } });
    expect(s.http.port).toBe(5000);
    expect(s.session.renewAfter).toBe(60_000);
    expect(s.workers).toBe(3);
  });

  it('reports every problem at once with path, found value and its source, expectation and a fix', () => {
    const problems = problemsOf(() =>
      loadSettings({
        env: {
          NODE_ENV: 'production',
          HOLDFAST_STORE__REDIS__NODES: 'redis-a:6379,redis-b',
          HOLDFAST_COOKIE__PASSWORD: 'short',
          HOLDFAST_SESSION__IDLE_TTL: '30 minutes',
          HOLDFAST_STORE__REDIS__SHARDZ: '8',
          HOLDFAST_WORKERS: 'many',
        },
      }),
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'cookie.password',
        'session.idleTtl',
        'store.redis.nodes.1',
        'store.redis.shardz',
        'workers',
      ].sort(),
    );
    expect(byPath['store.redis.nodes.1']).toEqual({
      path: 'store.redis.nodes.1',
      found: '"redis-b" (from HOLDFAST_STORE__REDIS__NODES)',
      expected: 'host:port, e.g. 10.0.0.1:6379',
      hint: 'change HOLDFAST_STORE__REDIS__NODES',
    });
    expect(byPath['session.idleTtl'].expected).toMatch(/duration such as .*30m/);
    expect(byPath['store.redis.shardz'].hint).toMatch(
      /remove or rename HOLDFAST_STORE__REDIS__SHARDZ/,
    );
    expect(byPath.workers.expected).toBe('"auto" or a whole number from 1 to 256');
  });

  it('store.redis.dnsServers and rediscoverInterval (ADR 210): defaults, env list, a bad server names the setting', () => {
    const d = loadSettings({ env: PROD });
    expect(d.store.redis.dnsServers).toEqual([]);
    expect(d.store.redis.rediscoverInterval).toBe(5000);
    const s = loadSettings({
      env: {
        ...PROD,
        HOLDFAST_STORE__REDIS__DNS_SERVERS: '127.0.0.1:5353, [::1]:53',
        HOLDFAST_STORE__REDIS__REDISCOVER_INTERVAL: '0s',
      },
    });
    expect(s.store.redis.dnsServers).toEqual(['127.0.0.1:5353', '[::1]:53']);
    expect(s.store.redis.rediscoverInterval).toBe(0);
    const problems = problemsOf(() =>
      loadSettings({ env: { ...PROD, HOLDFAST_STORE__REDIS__DNS_SERVERS: 'dns.example:53' } }),
    );
    expect(problems.map((p) => p.path)).toEqual(['store.redis.dnsServers.0']);
    expect(problems[0].expected).toMatch(/IP address with an optional port/);
  });

  it('http.trustedProxies: CIDR blocks from a file or a comma-separated variable; a bad one names the setting', () => {
    const s = loadSettings({ env: { HOLDFAST_HTTP__TRUSTED_PROXIES: '10.0.0.0/8, ::1/128' } });
    expect(s.http.trustedProxies).toEqual(['10.0.0.0/8', '::1/128']);
    expect(loadSettings({ env: {} }).http.trustedProxies).toEqual([]);
    const problems = problemsOf(() =>
      loadSettings({ env: { HOLDFAST_HTTP__TRUSTED_PROXIES: '10.0.0.0/8,10.0.0.0/33,lb.local' } }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'http.trustedProxies.1',
      'http.trustedProxies.2',
    ]);
    expect(formatProblem(problems[0])).toMatch(
      /http\.trustedProxies\.1: found "10\.0\.0\.0\/33" \(from HOLDFAST_HTTP__TRUSTED_PROXIES\); expected an IP address or a CIDR block, e\.g\. 10\.0\.0\.0\/8/,
    );
  });

  it('the removed throttle.trustProxy fails start-up and names http.trustedProxies', () => {
    for (const source of [
      { overrides: { throttle: { trustProxy: true } } },
      { env: { HOLDFAST_THROTTLE__TRUST_PROXY: 'true' } },
    ]) {
      const problems = problemsOf(() => loadSettings({ env: {}, ...source }));
      expect(problems).toHaveLength(1);
      expect(problems[0].path).toBe('throttle.trustProxy');
      expect(problems[0].expected).toMatch(/replaced by http\.trustedProxies/);
      expect(problems[0].hint).toMatch(
        /set http\.trustedProxies \(HOLDFAST_HTTP__TRUSTED_PROXIES\)/,
      );
    }
  });

  it('never shows a secret in a problem', () => {
    const problems = problemsOf(() =>
      loadSettings({ env: { ...PROD, HOLDFAST_COOKIE__PASSWORD: 'hunter2-secret' } }),
    );
    const text = problems.map(formatProblem).join('\n');
    expect(text).toContain('cookie.password: found a secret of 14 characters');
    expect(text).not.toContain('hunter2');
  });

  it('requires a shared store, a cookie password and Secure cookies in production', () => {
    const problems = problemsOf(() =>
      loadSettings({
        env: {
          NODE_ENV: 'production',
          HOLDFAST_STORE__TYPE: 'memory',
          HOLDFAST_COOKIE__SECURE: 'false',
        },
      }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'cookie.password',
      'cookie.secure',
      'store.type',
    ]);
    const type = problems.find((p) => p.path === 'store.type')!;
    expect(type.expected).toBe('one of "redis"');
    expect(type.hint).toMatch(/store.type to redis/);
  });

  it('asks for seed nodes or a DNS name when the store is Redis', () => {
    const problems = problemsOf(() =>
      loadSettings({ env: { NODE_ENV: 'production', HOLDFAST_COOKIE__PASSWORD: 'x'.repeat(40) } }),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'store.redis.nodes',
        found: 'no nodes and no store.redis.dns',
      }),
    ]);
    const s = loadSettings({
      env: {
        NODE_ENV: 'production',
        HOLDFAST_COOKIE__PASSWORD: 'x'.repeat(40),
        HOLDFAST_STORE__REDIS__DNS__NAME: 'redis-headless.default.svc.cluster.local',
      },
    });
    expect(s.store.redis.dns).toEqual({
      name: 'redis-headless.default.svc.cluster.local',
      port: 6379,
    });
  });

  it('checks rules that span settings', () => {
    const problems = problemsOf(() =>
      loadSettings({
        env: { HOLDFAST_SESSION__RENEW_AFTER: '40m', HOLDFAST_SESSION__ABSOLUTE_TTL: '10m' },
      }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['session.idleTtl', 'session.renewAfter']);
    expect(problems.find((p) => p.path === 'session.renewAfter')!.expected).toBe(
      'less than session.idleTtl (30m)',
    );
  });

  it('says what is wrong with the settings file itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-config-'));
    const cases: Array<[string, RegExp]> = [
      [dir, /which is a directory.*name the settings file itself/],
      [join(dir, 'missing.yaml'), /missing.yaml \(ENOENT\)/],
    ];
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'http: [port: 1\n');
    cases.push([bad, /syntax error/]);
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- a\n- b\n');
    cases.push([list, /holding a list.*top level must be a mapping/]);
    for (const [file, pattern] of cases) {
      const [p] = problemsOf(() => loadSettings({ file, env: {} }));
      expect(formatProblem(p)).toMatch(pattern);
    }
  });

  describe('a Redis store with no environment named', () => {
    const HINT =
      'set HOLDFAST_ENV=production (or env: production in the settings file); unnamed, Holdfast would run as development, on the in-process store with the published development cookie password';

    it('is one problem naming the setting, its source and HOLDFAST_ENV (env var)', () => {
      const problems = problemsOf(() =>
        loadSettings({ env: { HOLDFAST_STORE__REDIS__NODES: '10.0.0.1:6379' } }),
      );
      expect(problems).toEqual([
        {
          path: 'env',
          found:
            'no environment named (no env setting, HOLDFAST_ENV or NODE_ENV), while store.redis.nodes is set (from HOLDFAST_STORE__REDIS__NODES)',
          expected:
            'an environment named whenever a Redis store is configured: production, development or test',
          hint: HINT,
        },
      ]);
      expect(formatProblem(problems[0])).toMatch(
        /^env: found no environment named .*HOLDFAST_ENV=production/,
      );
    });

    it('from a settings file, from store.type redis alone, and under an unknown NODE_ENV', () => {
      const dir = mkdtempSync(join(tmpdir(), 'hf-config-'));
      const file = join(dir, 'holdfast.yaml');
      writeFileSync(file, 'store:\n  redis:\n    nodes: ["10.0.0.1:6379"]\n');
      const [fromFile] = problemsOf(() => loadSettings({ file, env: {} }));
      expect(fromFile.found).toBe(
        `no environment named (no env setting, HOLDFAST_ENV or NODE_ENV), while store.redis.nodes is set (from file ${file})`,
      );
      const [typeOnly] = problemsOf(() => loadSettings({ env: { HOLDFAST_STORE__TYPE: 'redis' } }));
      expect(typeOnly.found).toMatch(/while store\.type is set \(from HOLDFAST_STORE__TYPE\)$/);
      const [staging] = problemsOf(() =>
        loadSettings({
          env: { NODE_ENV: 'staging', HOLDFAST_STORE__REDIS__DNS__NAME: 'redis.example' },
        }),
      );
      expect(staging.found).toBe(
        'NODE_ENV "staging", which is not an environment Holdfast knows, and no env setting or HOLDFAST_ENV, while store.redis.dns.name is set (from HOLDFAST_STORE__REDIS__DNS__NAME)',
      );
      expect(staging.hint).toBe(HINT);
    });

    it('loads once any of env, HOLDFAST_ENV or NODE_ENV names one; no Redis setting needs none', () => {
      const nodes = { HOLDFAST_STORE__REDIS__NODES: '10.0.0.1:6379' };
      expect(loadSettings({ env: { ...nodes, HOLDFAST_ENV: 'development' } }).env).toBe(
        'development',
      );
      expect(loadSettings({ env: { ...nodes, NODE_ENV: 'test' } }).env).toBe('test');
      expect(loadSettings({ env: nodes, overrides: { env: 'development' } }).env).toBe(
        'development',
      );
      expect(loadSettings({ env: { ...PROD } }).store.type).toBe('redis');
      expect(loadSettings({ env: { HOLDFAST_STORE__TYPE: 'memory' } }).env).toBe('development');
    });
  });

  it('redacts secrets when settings are shown', () => {
    const s = loadSettings({ env: { ...PROD, HOLDFAST_STORE__REDIS__PASSWORD: 'redis-pass' } });
    const shown = JSON.stringify(redactedSettings(s));
    expect(shown).not.toContain('redis-pass');
    expect(shown).not.toContain('x'.repeat(40));
    expect(shown).toContain('[redacted]');
  });
});
