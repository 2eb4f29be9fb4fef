/**
 * What the store benches share: a session shaped as the user stores and a deployment of the given
 * format make it, and a bounded-concurrency driver.
 */
import type { SessionFormat, StoredSession } from '../../src/store/engine';
import { ID_BYTES } from '../../src/store/keys';
import { SESSION_FORMAT } from '../../src/store/record-codec';
import { deviceLabel } from '../../src/session/device';
import { hashSecret, newId, newSecret } from '../../src/session/token';

export const MINUTE = 60_000;
/** A real user agent header; sessions store its device label ("Chrome 120 on Windows"), as the plugin does. */
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
export const DEVICE = deviceLabel(UA);

export interface BenchSessionOptions {
  /** The format the engine writes (its `sessionFormat`): sets the session id's length. */
  readonly format?: SessionFormat;
  /** Default: a 22-character id, as the user stores make them. */
  readonly userId?: string;
}

/** Session n: an IPv4 address of its own, the typical device label, idle for 30 minutes. */
export function benchSession(
  n: number,
  now: number,
  { format = SESSION_FORMAT, userId = newId() }: BenchSessionOptions = {},
): StoredSession {
  return {
    id: newId(ID_BYTES[format]),
    userId,
    secretHash: hashSecret(newSecret()),
    method: 'password',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 7 * 24 * 60 * MINUTE,
    ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    userAgent: DEVICE,
    credentialVersion: 0,
    seriesId: null,
  };
}

/** Runs op(0..ops-1) with at most `concurrency` in flight; returns the elapsed seconds. */
export async function drive(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) await op(i);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}
