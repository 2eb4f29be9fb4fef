/**
 * A credential change that lands between two writes of one sign-in: between a session and its
 * remember-me series, and between the use of a series and the session it makes. The engine is the
 * real memory engine; `between` runs the change (a real revokeAll raising the epoch, as a password
 * change does) at the step named, as another node would.
 */
import { loadSettings } from '../../../src/config';
import { StoreUnavailableError } from '../../../src/errors';
import { CredentialsChangedError, SessionPolicy, SessionService } from '../../../src/session';
import type { StoredSeries, StoredSession } from '../../../src/store/engine';
import { KeyLayout } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';

const client = { ip: '203.0.113.9', userAgent: 'races' };

/** The memory engine, running `between[step]` once just before that step's write. */
class SteppedEngine extends MemoryEngine {
  between: { createSeries?: () => Promise<unknown>; create?: () => Promise<unknown> } = {};

  private async step(name: 'createSeries' | 'create'): Promise<void> {
    const run = this.between[name];
    delete this.between[name];
    await run?.();
  }

  override async createSeries(shard: number, series: StoredSeries, max: number): Promise<boolean> {
    await this.step('createSeries');
    return super.createSeries(shard, series, max);
  }

  override async create(shard: number, s: StoredSession, max: number): Promise<string[] | null> {
    await this.step('create');
    return super.create(shard, s, max);
  }
}

function setup() {
  const settings = loadSettings({ env: { NODE_ENV: 'test' } });
  const now = () => 1_700_000_000_000;
  const engine = new SteppedEngine(16, now);
  const service = new SessionService(
    engine,
    new KeyLayout('hf', 16),
    new SessionPolicy(settings.session),
    now,
  );
  return { engine, service };
}

test('a change between the session and its series: the sign-in fails, nothing of it remains', async () => {
  const { engine, service } = setup();
  engine.between.createSeries = () => service.revokeAll('user-1', 'password', undefined, 1);
  await expect(
    service.create('user-1', client, 'password', { credentialVersion: 0, remember: true }),
  ).rejects.toBeInstanceOf(CredentialsChangedError);
  expect(await service.list('user-1')).toEqual([]);
});

test('a change between the use of a series and its new session: the cookie signs nobody in', async () => {
  const { engine, service } = setup();
  const first = await service.create('user-1', client, 'password', {
    credentialVersion: 0,
    remember: true,
  });
  // The series has answered (and rotated) when the change ends everything and raises the epoch.
  engine.between.create = () => service.revokeAll('user-1', 'password', undefined, 1);
  expect(await service.useRemember(first.rememberToken, client)).toEqual({ result: 'invalid' });
  expect(await service.list('user-1')).toEqual([]);
});

test('a store failure while making the session of a series is an outage, never "no session"', async () => {
  const { engine, service } = setup();
  const first = await service.create('user-1', client, 'password', { remember: true });
  engine.between.create = async () => {
    throw new StoreUnavailableError('create', new Error('connection closed'));
  };
  await expect(service.useRemember(first.rememberToken, client)).rejects.toBeInstanceOf(
    StoreUnavailableError,
  );
});
