import Hapi, { Server } from '@hapi/hapi';
import { loadSettings } from '../../../src/config';
import { holdfastHealth } from '../../../src/health';
import { holdfastMetrics } from '../../../src/metrics';
import { holdfastPlugin } from '../../../src/plugin';
import { createServices } from '../../../src/server';

/**
 * The peer dependency is hapi >= 21; an older server is refused with HF_HAPI_VERSION naming its
 * version. A real hapi 20 is registered against in test/e2e/package (installed there from the
 * registry); here each plugin's register() gets a hapi 21 server that reports an older version
 * (hapi gives a plugin its own server object, so the version is set on what register() receives).
 */
function olderServer(version: string): Server {
  return Object.create(Hapi.server(), { version: { value: version } }) as Server;
}

const settings = loadSettings({ env: { NODE_ENV: 'test' } });
const services = createServices(settings);
const options = { settings, sessions: services.sessions, accounts: services.accounts };

describe('hapi version check', () => {
  it('refuses hapi 20 before registering anything, naming the version found', async () => {
    const server = olderServer('20.3.0');
    const err = await Promise.resolve()
      .then(() => holdfastPlugin.register(server, options))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'HF_HAPI_VERSION', name: 'HoldfastError' });
    expect((err as Error).message).toBe(
      'holdfast needs @hapi/hapi 21 or later (peerDependencies ">=21"); this server is @hapi/hapi 20.3.0: npm install @hapi/hapi@21',
    );
    expect(server.table()).toEqual([]);
  });

  it('refuses it for the health and metrics plugins too', async () => {
    expect(() => holdfastHealth.register(olderServer('20.2.1'), { services })).toThrow(
      expect.objectContaining({
        code: 'HF_HAPI_VERSION',
        message: expect.stringMatching(/^holdfast-health needs .* @hapi\/hapi 20\.2\.1:/),
      }),
    );
    expect(() => holdfastMetrics.register(olderServer('19.0.0'), { services })).toThrow(
      expect.objectContaining({
        code: 'HF_HAPI_VERSION',
        message: expect.stringMatching(/^holdfast-metrics needs .* @hapi\/hapi 19\.0\.0:/),
      }),
    );
  });

  it('accepts the installed hapi 21', async () => {
    const server = Hapi.server();
    expect(server.version).toMatch(/^21\./);
    await server.register({ plugin: holdfastPlugin, options });
    expect(server.table().length).toBeGreaterThan(0);
  });
});
