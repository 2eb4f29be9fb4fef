import { KeyLayout } from '../../store/keys';
import { BALANCE_WARN_RATIO, balanceReport } from '../../store/redis/balance';
import { shardSlots } from '../../store/redis/hash-slot';
import { validGrowth } from '../../store/redis/split-state';
import type { CheckDefinition, StoreContext } from '../context';
import { mapNat } from '../facts';
import { formatEndpoint } from '../probe';
import { isFailing } from '../redis-info';
import { metaOwner } from './layout-checks';
import { CheckOutcome, pass, skip, warn } from '../types';

/**
 * The layout the data lives under: the configured one, or the count it grew to with `holdfast
 * store reshard` while this node still names the old one (ADR 260). Meta unreadable: configured.
 */
async function storedLayout(ctx: StoreContext): Promise<KeyLayout> {
  const r = ctx.settings.store.redis;
  const keys = new KeyLayout(r.keyPrefix, r.shards);
  const owner = await metaOwner(ctx);
  if (typeof owner === 'string') return keys;
  const recorded = Number(await owner.probe.call('HGET', keys.meta(), 'shards').catch(() => null));
  if (validGrowth(r.shards, recorded)) keys.grownTo = recorded;
  return keys;
}

/**
 * store.balance (issue 15 item 3, ADR 185): the busiest master holds at most 1.2× the mean of
 * shards. Warns only: an uneven cluster serves, one master just carries more than its share.
 */
export const balanceCheck: CheckDefinition = {
  id: 'store.balance',
  summary: `The busiest cluster master holds at most ${BALANCE_WARN_RATIO}× the mean number of session shards (warns only).`,
  gate: 'store',
  async run(c): Promise<CheckOutcome> {
    const ctx = c as StoreContext;
    const r = ctx.settings.store.redis;
    if (r.mode !== 'cluster') return skip('one master holds every shard (not a cluster)');
    const view = ctx.facts.cluster?.view;
    if (!view) return skip('no cluster view (see store.mode)');
    const masters = view
      .filter((m) => m.master && !isFailing(m))
      .map((m) => ({ id: m.id, address: formatEndpoint(mapNat(r, m)), ranges: m.slots }));
    if (masters.length === 0) return skip('no master in the cluster view');
    const report = balanceReport(shardSlots(await storedLayout(ctx)), masters);
    const expected = `the busiest master at most ${BALANCE_WARN_RATIO}× the mean of ${report.shards} shards over ${report.masters.length} masters`;
    const observed = `${report.busiest.address} holds ${report.busiest.shards} shards, ${report.ratio.toFixed(2)}× the mean ${report.mean.toFixed(1)}`;
    if (report.ratio > BALANCE_WARN_RATIO)
      return warn(
        observed,
        expected,
        'shards are hash-slot bound: `holdfast store balance --plan` shows the slot moves that even them, `--apply` makes them (docs/cli.md)',
      );
    return pass(observed, expected);
  },
};
