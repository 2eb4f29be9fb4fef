import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { HoldfastError } from '../../errors';
import { shardUnder } from '../keys';
import type { RedisEngine } from './redis-engine';
import { beginSplit, finishSplit, RESHARD_POLL_MS, saveCursor } from './split-state';
import type { SplitState } from './split-state';

/** One line of a split's progress (ADR 260). */
export interface ReshardProgress {
  readonly phase: 'announce' | 'shard' | 'done';
  readonly from: number;
  readonly to: number;
  /** Old shards done (the cursor). */
  readonly shardsDone: number;
  /** Users moved so far by this run. */
  readonly moved: number;
  readonly elapsedMs: number;
}

export interface ReshardOptions {
  readonly onProgress?: (p: ReshardProgress) => void;
  /**
   * How long to wait after announcing the split before moving anyone: every node must have read
   * it (they poll every RESHARD_POLL_MS), or one could answer "no session" for a moved user.
   */
  readonly announceWaitMs?: number;
  /** Users moved at once (each move is three scripts on two masters). */
  readonly concurrency?: number;
  /** Stops after this many old shards (tests: a crash halfway). */
  readonly maxShards?: number;
  readonly clock?: () => number;
}

/**
 * How long the command's lease lasts without renewal (renewed after each old shard): a crashed
 * run blocks another this long at most.
 */
export const RESHARD_LEASE_MS = 60_000;

/**
 * Grows the shard count to `to` (ADR 260): announces the split in meta, waits for every node to
 * know it, moves the users of each old shard (cursor saved after each), then records the new count.
 * Run again after a crash, it resumes at the cursor; users left frozen are listed by usersOf and
 * moved first on their shard.
 */
export async function reshard(
  engine: RedisEngine,
  to: number,
  options: ReshardOptions = {},
): Promise<SplitState> {
  // One run at a time: two runs moving the same user could import a copy after the other's
  // release and bring back what was revoked on the new shard in between.
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const hold = async () => {
    if (!(await engine.reshardLease(owner, RESHARD_LEASE_MS))) {
      throw new HoldfastError(
        'HF_RESHARD_REFUSED',
        `another holdfast store reshard is running (${engine.keys.reshardLease()}); it ends, or its lease expires ${RESHARD_LEASE_MS / 1000} s after it stopped`,
      );
    }
  };
  await hold();
  try {
    return await run(engine, to, options, hold);
  } finally {
    await engine.reshardLease(owner, 0).catch(() => {});
  }
}

async function run(
  engine: RedisEngine,
  to: number,
  options: ReshardOptions,
  hold: () => Promise<void>,
): Promise<SplitState> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const client = engine.connection.writes;
  let state = await beginSplit(client, engine.keys, to);
  if (state.done) {
    // A run that stopped after the end but before the markers went: they go now.
    const grownFrom = Number(await client.hget(engine.keys.meta(), 'grownFrom'));
    if (grownFrom > 0 && grownFrom < state.to) await dropMarkers(engine, grownFrom);
    return state;
  }
  await engine.refreshMeta();
  let moved = 0;
  const progress = (phase: ReshardProgress['phase']) =>
    options.onProgress?.({
      phase,
      from: state.from,
      to: state.to,
      shardsDone: state.cursor,
      moved,
      elapsedMs: clock() - started,
    });
  progress('announce');
  await sleep(options.announceWaitMs ?? 3 * RESHARD_POLL_MS);
  const concurrency = options.concurrency ?? 16;
  const stopAt = Math.min(state.from, state.cursor + (options.maxShards ?? state.from));
  for (let shard = state.cursor; shard < stopAt; shard++) {
    const movers = (await engine.usersOf(shard)).filter((u) => shardUnder(u, to) !== shard);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, movers.length) }, async () => {
        while (next < movers.length) {
          const userId = movers[next++];
          if (await engine.moveUser(shard, shardUnder(userId, to), userId, clock())) moved++;
        }
      }),
    );
    state = { ...state, cursor: shard + 1 };
    await hold();
    await saveCursor(client, engine.keys, state);
    progress('shard');
  }
  if (state.cursor < state.from) return state;
  await finishSplit(client, engine.keys, state);
  state = { ...state, done: true };
  await engine.refreshMeta();
  // Once every node knows the end, no write goes to a moved user's old shard (the engine sends it
  // to the new one): the per-user markers, up to one field per user moved, can go.
  await sleep(options.announceWaitMs ?? 3 * RESHARD_POLL_MS);
  await dropMarkers(engine, state.from);
  progress('done');
  return state;
}

/** Deletes the split markers of old shards 0..from−1 (ADR 260). */
async function dropMarkers(engine: RedisEngine, from: number): Promise<void> {
  const { writes } = engine.connection;
  await Promise.all(Array.from({ length: from }, (_, s) => writes.unlink(engine.keys.reshard(s))));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
