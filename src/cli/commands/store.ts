import type { Services } from '../../server/services';
import {
  BALANCE_WARN_RATIO,
  readStoreBalance,
  type BalancePlan,
  type BalanceReport,
  type ClusterMaster,
} from '../../server/store-balance';
import { reshardStore, upgradeStoreFormat, type ReshardProgress } from '../../server/store-layout';
import type { Out } from '../output';
import { formatTable } from '../table';

export type BalanceMode = 'report' | 'plan' | 'apply';

const ratio = (r: number) => `${r.toFixed(2)}×`;

function reportLines(report: BalanceReport): string[] {
  const lines = formatTable(
    ['MASTER', 'ID', 'SLOTS', 'SHARDS'],
    report.masters.map((m) => [m.address, m.id.slice(0, 8), String(m.slots), String(m.shards)]),
  );
  lines.push(
    `${report.shards} shards over ${report.masters.length} masters: mean ${report.mean.toFixed(1)}, ` +
      `busiest ${report.busiest.address} with ${report.busiest.shards} (${ratio(report.ratio)} the mean` +
      `${report.ratio > BALANCE_WARN_RATIO ? `, above the ${BALANCE_WARN_RATIO}× warning` : ''}); ` +
      (report.balanced ? 'balanced (±1)' : 'not balanced: holdfast store balance --plan'),
  );
  return lines;
}

function planLines(plan: BalancePlan, masters: readonly ClusterMaster[]): string[] {
  const address = new Map(masters.map((m) => [m.id, m.address]));
  if (plan.moves.length === 0) return ['no slot to move'];
  const lines = formatTable(
    ['SLOT', 'SHARDS', 'FROM', 'TO'],
    plan.moves.map((m) => [
      String(m.slot),
      String(m.shards),
      address.get(m.from) ?? m.from,
      address.get(m.to) ?? m.to,
    ]),
  );
  const shards = plan.moves.reduce((s, m) => s + m.shards, 0);
  lines.push(
    `${plan.moves.length} slot moves (${shards} shards) ` +
      (plan.balanced
        ? 'give every master an equal number of shards (±1)'
        : 'come as close to ±1 as whole slots allow (some slots hold several shards)'),
  );
  return lines;
}

const reportJson = (r: BalanceReport) => ({
  shards: r.shards,
  mean: r.mean,
  ratio: r.ratio,
  balanced: r.balanced,
  busiest: r.busiest.address,
  masters: r.masters,
});

/**
 * `holdfast store balance [--plan | --apply]`: shards per master and the busiest master's share;
 * the slot moves that balance them; or those moves performed, one line of progress per slot
 * (stderr; JSON lines with --json), then the report again (ADR 185).
 */
export async function storeBalance(
  services: Services,
  mode: BalanceMode,
  json: boolean,
  out: Out,
  err: Out,
): Promise<number> {
  const balance = await readStoreBalance(services);
  const { masters, report: before } = balance;
  if (mode === 'report') {
    if (json) out(JSON.stringify(reportJson(before)));
    else reportLines(before).forEach((l) => out(l));
    return 0;
  }
  const plan = balance.plan();
  if (mode === 'plan') {
    if (json)
      out(
        JSON.stringify({ ...reportJson(before), moves: plan.moves, planBalanced: plan.balanced }),
      );
    else [...reportLines(before), '', ...planLines(plan, masters)].forEach((l) => out(l));
    return 0;
  }
  const address = new Map(masters.map((m) => [m.id, m.address]));
  const after = await balance.apply(plan, (p) =>
    err(
      json
        ? JSON.stringify({ ...p.move, keys: p.keys, ms: p.ms, done: p.done, total: p.total })
        : `[${p.done}/${p.total}] slot ${p.move.slot} (${p.move.shards} shards, ${p.keys} keys) ` +
            `${address.get(p.move.from) ?? ''} -> ${address.get(p.move.to) ?? ''} in ${p.ms} ms`,
    ),
  );
  if (json) out(JSON.stringify({ ...reportJson(after), moved: plan.moves.length }));
  else [`moved ${plan.moves.length} slots`, ...reportLines(after)].forEach((l) => out(l));
  return 0;
}

/** A progress bar: `[#####.....] 3/8 old shards, 120 users moved, 4.1 s`. */
export function progressBar(p: ReshardProgress, width = 30): string {
  const filled = Math.round((p.shardsDone / p.from) * width);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.shardsDone}/${p.from} old shards, ` +
    `${p.moved} users moved, ${(p.elapsedMs / 1000).toFixed(1)} s`
  );
}

/**
 * `holdfast store reshard --shards N`: grows the shard count online (ADR 260). Progress goes to
 * stderr: a bar redrawn in place on a terminal, else (or with --json) one JSON line per old shard.
 * Run again after a crash, it resumes where the recorded cursor says.
 */
export async function storeReshard(
  services: Services,
  shards: number,
  json: boolean,
  out: Out,
  err: Out,
  terminal: { isTTY?: boolean; write(text: string): boolean },
): Promise<number> {
  const bar = !json && terminal.isTTY === true;
  const state = await reshardStore(services, shards, (p) => {
    if (bar) terminal.write(`\r${progressBar(p)}${p.phase === 'done' ? '\n' : ''}`);
    else err(JSON.stringify(p));
  });
  const from = state.from;
  if (json) {
    out(JSON.stringify({ from, to: state.to, done: state.done }));
  } else if (from === state.to) {
    out(`the store already has ${state.to} shards: nothing to do`);
  } else {
    out(
      `grew from ${from} to ${state.to} shards; set store.redis.shards to ${state.to} ` +
        `(HOLDFAST_STORE__REDIS__SHARDS) before each node's next start (nodes still set to ${from} keep working)`,
    );
  }
  return 0;
}

/**
 * `holdfast store upgrade-format`: records the newest session format, which every node writes
 * from its next meta poll on (ADR 265). Refused while a node of an older build is connected.
 */
export async function storeUpgradeFormat(
  services: Services,
  json: boolean,
  out: Out,
): Promise<number> {
  const r = await upgradeStoreFormat(services);
  if (json) out(JSON.stringify(r));
  else if (!r.changed) out(`the store already records format "${r.to}": nothing to do`);
  else
    out(
      `recorded format "${r.to}" (was "${r.from || 'none'}"): every node writes it within 2 s; ` +
        'sessions made before keep working until they end; versions before this one now refuse to start on this store',
    );
  return 0;
}
