import { deadlines } from '../deadline';
import { durability, REVOKING_OPERATIONS, WAIT_RETRIES } from '../durability';
import { evalThenWait } from './commands';
import type { ScriptArg } from './commands';
import type { RedisClient } from './connection';
import { loadScripts } from './scripts';
import type { LuaScript } from './scripts';

export interface DurabilitySettings {
  readonly replicas: number;
  readonly timeout: number;
}

/**
 * A change followed by WAIT on the same connection (ADR 215). When fewer replicas acknowledge in
 * time and `wrote(reply)` says the change applied, the reply is still returned (it happened on the
 * master) and the change is recorded as pending in `durability`. A revocation first sends WAIT
 * again, up to WAIT_RETRIES times, after a keyed no-op on the same connection (WAIT counts the
 * connection's latest write, so it still covers the revocation): ending a session is where a lost
 * write hurts most (the session would come back after a failover).
 */
export async function writeThenWait(
  client: RedisClient,
  operation: string,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
  settings: DurabilitySettings,
  wrote: (reply: unknown) => boolean = () => true,
): Promise<unknown> {
  const { replicas, timeout } = settings;
  const outcome = await evalThenWait(client, script, keys, args, replicas, timeout);
  if (outcome.acknowledged >= replicas || !wrote(outcome.reply)) return outcome.reply;
  let acknowledged = outcome.acknowledged;
  let retries = 0;
  if (REVOKING_OPERATIONS.has(operation)) {
    // Not past the request's deadline (ADR 245): a retry that cannot end before it is not sent.
    while (
      retries < WAIT_RETRIES &&
      acknowledged < replicas &&
      deadlines.waitTimeout(timeout) > 0
    ) {
      retries++;
      try {
        const again = await evalThenWait(
          client,
          loadScripts().noop,
          keys.slice(0, 1),
          [],
          replicas,
          timeout,
        );
        acknowledged = again.acknowledged;
      } catch {
        break; // the change is made: a failed retry leaves it pending, never turns it into an error
      }
    }
    if (acknowledged >= replicas) {
      durability.recovered();
      return outcome.reply;
    }
  }
  durability.record({ operation, acknowledged, required: replicas, retries });
  return outcome.reply;
}
