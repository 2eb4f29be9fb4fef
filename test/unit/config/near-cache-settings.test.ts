/** nearCache settings (ADR 225): off by default, one variable to turn on, the staleness bounded. */
import { loadSettings, pathForEnvVar } from '../../../src/config';
import { ConfigError } from '../../../src/errors';

const load = (env: Record<string, string>) => loadSettings({ env: { NODE_ENV: 'test', ...env } });

describe('nearCache settings', () => {
  it('is off by default, 1 s staleness, 10000 entries', () => {
    expect(load({}).nearCache).toEqual({ enabled: false, staleness: 1000, maxEntries: 10_000 });
  });

  it.each(['HOLDFAST_NEARCACHE__ENABLED', 'HOLDFAST_NEAR_CACHE__ENABLED'])(
    '%s=true turns it on',
    (name) => {
      expect(pathForEnvVar(name)).toBe('nearCache.enabled');
      expect(load({ [name]: 'true' }).nearCache.enabled).toBe(true);
    },
  );

  it('reads staleness and maxEntries from the environment', () => {
    const s = load({
      HOLDFAST_NEARCACHE__STALENESS: '250ms',
      HOLDFAST_NEAR_CACHE__MAX_ENTRIES: '5',
    });
    expect(s.nearCache).toEqual({ enabled: false, staleness: 250, maxEntries: 5 });
  });

  it.each(['0ms', '61s'])('refuses a staleness of %s', (value) => {
    expect(() => load({ HOLDFAST_NEAR_CACHE__STALENESS: value })).toThrow(ConfigError);
    try {
      load({ HOLDFAST_NEAR_CACHE__STALENESS: value });
    } catch (err) {
      expect((err as ConfigError).message).toContain('nearCache.staleness');
    }
  });

  it('accepts the bounds themselves', () => {
    expect(load({ HOLDFAST_NEAR_CACHE__STALENESS: '1ms' }).nearCache.staleness).toBe(1);
    expect(load({ HOLDFAST_NEAR_CACHE__STALENESS: '1m' }).nearCache.staleness).toBe(60_000);
  });

  it('leaves names that match no default as before', () => {
    expect(pathForEnvVar('HOLDFAST_STORE__REDIS__NATMAP')).toBe('store.redis.natMap');
    expect(pathForEnvVar('HOLDFAST_COOKIE__PASSWORD')).toBe('cookie.password');
    expect(pathForEnvVar('HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER')).toBe(
      'store.redis.require.replicasPerMaster',
    );
  });
});
