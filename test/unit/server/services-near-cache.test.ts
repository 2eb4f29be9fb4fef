/** createServices builds the near cache from settings (ADR 225), in front of the timed engine. */
import { createMetrics } from '../../../src/metrics';
import { createServices } from '../../../src/server/services';
import { MemoryEngine, NearCacheEngine } from '../../../src/store';
import { parseExposition, valueOf } from '../../support/exposition';
import { testSettings } from '../../support/app';
import { newUserId } from '../../support/store-fixtures';

const client = { ip: '203.0.113.9', userAgent: 'test' };

describe('createServices with nearCache', () => {
  it('builds no near cache by default', () => {
    const services = createServices(testSettings());
    expect(services.nearCache).toBeNull();
    expect(services.sessions.engine).not.toBeInstanceOf(NearCacheEngine);
  });

  it('nearCache.enabled: the session service reads through the cache; a revocation on another process is seen at once', async () => {
    const settings = testSettings({ nearCache: { enabled: true, staleness: '1m' } });
    const store = new MemoryEngine(settings.store.redis.shards);
    const metrics = createMetrics({ defaultMetrics: false });
    const a = createServices(settings, { engine: store });
    const b = createServices(settings, { engine: store, metrics });
    expect(b.sessions.engine).toBe(b.nearCache);
    await a.engine.start();
    await b.engine.start();
    const userId = newUserId();
    const { token } = await a.sessions.create(userId, client, 'password');
    expect((await b.sessions.authenticate(token)).result).toBe('ok');
    expect((await b.sessions.authenticate(token)).result).toBe('ok');
    const exp = parseExposition(await metrics.scrape());
    expect(valueOf(exp, 'holdfast_near_cache_hits_total')).toBe(1);
    expect(valueOf(exp, 'holdfast_near_cache_misses_total')).toBe(1);
    // A password change ends the user's other sessions (revokeAll with a new credential version).
    await a.sessions.revokeAll(userId, 'password', undefined, 1);
    expect((await b.sessions.authenticate(token)).result).toBe('invalid');
    await a.engine.stop();
    await b.engine.stop();
  });
});
