/** Polling helpers: every wait has a deadline and says what it last saw when it gives up. */

/** Returned by a probe that is not satisfied yet; `reason` ends up in the timeout message. */
export class NotYet {
  constructor(readonly reason: string) {}
}

export function notYet(reason: string): NotYet {
  return new NotYet(reason);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than NotYet, and returns that. A probe that
 * throws counts as not yet (servers refuse connections while they start).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | NotYet>,
  opts: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    try {
      const result = await probe();
      if (!(result instanceof NotYet)) return result;
      last = result.reason;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${Date.now() - started} ms waiting for ${what}: ${last}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}
