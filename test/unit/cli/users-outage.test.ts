/**
 * `holdfast users delete|disable` when the user is written but their sessions could not be ended
 * (ADR 272): the command does not stay to retry, so it exits 69 with the line that ends them,
 * naming the user id (a repeated delete would find no user). The in-process store, the outage on
 * revokeUser alone.
 */
import { usersEnd } from '../../../src/cli/commands/users';
import { reportError } from '../../../src/cli/output';
import { StoreUnavailableError } from '../../../src/errors';
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';
import { revokeFault, revokeOutage } from '../../support/revoke-fault';

let seq = 0;

async function userWithSession() {
  const settings = testSettings();
  const { fault, instrument } = revokeFault();
  const services = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
    instrument,
  });
  const email = `cli.outage.${process.pid}.${++seq}@example.com`;
  const client = { ip: '10.1.2.3', userAgent: 'cli' };
  const reg = await services.accounts.register(
    { email, password: 'correct horse battery' },
    client,
  );
  return { services, fault, email, id: reg.user.id };
}

test.each(['delete', 'disable'] as const)(
  'users %s written, sessions not ended: exit 69 naming the command that ends them',
  async (action) => {
    const { services, fault, email, id } = await userWithSession();
    fault.revoke = revokeOutage();
    const printed: string[] = [];
    const err = await usersEnd(services, action, email, false, (l) => printed.push(l)).catch(
      (e: unknown) => e,
    );
    services.revocations.stop();
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toBe(
      `user ${id} ${action}d, but their sessions were not ended: once the store answers, run holdfast sessions revoke --user ${id}; session store unavailable during users ${action}: session store unavailable during revokeUser: Command timed out`,
    );
    const lines: string[] = [];
    expect(reportError(err, (l) => lines.push(l), false)).toBe(69);
    expect(lines.join('\n')).toContain(`holdfast sessions revoke --user ${id}`);
    expect(printed).toEqual([]);
    expect((await services.sessions.list(id)).length).toBe(1);
  },
);

test('an outage before anything was written keeps the store’s own message', async () => {
  const { services, email } = await userWithSession();
  const down = new StoreUnavailableError('users.disable', new Error('Connection is closed.'));
  const disable = services.users.disable.bind(services.users);
  services.users.disable = () => Promise.reject(down);
  try {
    await expect(usersEnd(services, 'disable', email, false, () => {})).rejects.toBe(down);
  } finally {
    services.users.disable = disable;
  }
});
