import { KeyLayout } from '../../store/keys';
import { BALANCE_WARN_RATIO, balanceReport } from '../../store/redis/balance';
import { shardSlots } from '../../store/redis/hash-slot';
import type { CheckDefinition, StoreContext } from '../context';
import { mapNat } from '../facts';
import { formatEndpoint } from '../probe';
import { isFailing } from '../redis-info';
import { CheckOutcome, pass, skip, warn } from '../types';

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
    const report = balanceReport(shardSlots(new KeyLayout(r.keyPrefix, r.shards)), masters);
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
