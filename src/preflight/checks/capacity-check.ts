import { envVarFor } from '../../config';
import type { CheckDefinition, StoreContext } from '../context';
import { listOf, plural } from '../context';
import { NodeFacts, role, usable } from '../facts';
import { CheckOutcome, fail, pass, skip, warn } from '../types';
import { MEMORY_WARN_RATIO } from './server-checks';

/**
 * Bytes of Redis memory one session takes, summed over masters (record, indexes, metadata; no
 * replication backlog): measured with `BENCH_MEMORY_ONLY=1 BENCH_USER_IDS=random
 * BENCH_MEMORY_SESSIONS=100000 node -r ts-node/register/transpile-only bench/store.ts` (used_memory
 * delta / N over a 3-master cluster), rounded up; docs/operations.md has the run.
 */
export const SESSION_BYTES = 400;

function masters(ctx: StoreContext): NodeFacts[] {
  const nodes = ctx.facts.dataNodes.filter((n) => usable(n) && n.info && role(n) === 'master');
  const r = ctx.settings.store.redis;
  if (r.mode === 'sentinel')
    return nodes.filter((n) => n.label === ctx.facts.sentinel?.masterLabel);
  // Cluster: only masters that serve slots hold sessions.
  return r.mode === 'cluster'
    ? nodes.filter(
        (n) =>
          n.clusterNodes?.some((c) => c.flags.includes('myself') && c.slots.length > 0) ?? true,
      )
    : nodes;
}

export function mb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}

const count = (n: number) => Math.floor(n).toLocaleString('en-US');

export const capacityCheck: CheckDefinition = {
  id: 'store.capacity',
  summary:
    'maxmemory of every master holds its share of store.expectedSessions at the measured bytes per session (below the 90% store.memory warns at).',
  gate: 'store',
  run(c): CheckOutcome {
    const ctx = c as StoreContext;
    const expected = ctx.settings.store.expectedSessions;
    if (expected === 0) return skip('store.expectedSessions is 0: no capacity to check');
    const list = masters(ctx);
    if (list.length === 0) return skip('no master answered');
    const perMaster = Math.ceil(expected / list.length);
    const need = perMaster * SESSION_BYTES;
    const room = need / MEMORY_WARN_RATIO;
    const expectedText = `maxmemory of at least ${mb(room)} per master: ${count(expected)} sessions (store.expectedSessions) over ${plural(list.length, 'master')} at ${SESSION_BYTES} B each, below ${MEMORY_WARN_RATIO * 100}%`;
    const production = ctx.settings.env === 'production';
    const small: string[] = [];
    const unlimited: string[] = [];
    const unlimitedSmall: string[] = [];
    for (const n of list) {
      const max = Number(n.config?.maxmemory ?? n.info?.maxmemory ?? 0);
      // No maxmemory: the machine's memory is the limit (a container's may be lower: not visible).
      const limit = max || Number(n.info?.total_system_memory ?? 0);
      const holds = (limit * MEMORY_WARN_RATIO) / SESSION_BYTES;
      if (!max) unlimited.push(n.label);
      if (!(limit > 0 && limit < room)) continue;
      if (max)
        small.push(
          `${n.label} (master): maxmemory ${mb(max)} holds about ${count(holds)} sessions`,
        );
      else
        unlimitedSmall.push(
          `${n.label} (master): no maxmemory and ${mb(limit)} of system memory holds about ${count(holds)} sessions`,
        );
    }
    const raise = `raise maxmemory to at least ${mb(room)} on every master (CONFIG SET maxmemory, and in redis.conf), add masters, or set store.expectedSessions (${envVarFor('store.expectedSessions')}) to the sessions you expect`;
    const per = `, ${count(perMaster)} expected per master`;
    if (small.length) {
      const observed = `${listOf([...small, ...unlimitedSmall], 4)}${per}`;
      const hint = `${raise}; at maxmemory Redis refuses new sessions (logins answer 503)`;
      return production ? fail(observed, expectedText, hint) : warn(observed, expectedText, hint);
    }
    // No limit set, and the machine cannot hold the plan: a warning, never a failure (a container
    // limit or swap is not visible from INFO, and nothing refuses writes before the kernel does).
    if (unlimitedSmall.length) {
      return warn(
        `${listOf(unlimitedSmall, 4)}${per}`,
        expectedText,
        `give Redis a machine with more memory, add masters, or set store.expectedSessions (${envVarFor('store.expectedSessions')}); then set maxmemory to at least ${mb(room)}, so that a full Redis answers OOM (503 on logins) instead of being killed`,
      );
    }
    return pass(
      `${count(perMaster)} sessions per master fit on ${plural(list.length, 'master')}${unlimited.length ? ` (${unlimited.length} without maxmemory)` : ''}`,
      expectedText,
    );
  },
};
