import { EventEmitter } from 'node:events';
import type { StoreHealth, StoreState } from './store-health';

export interface ReadinessState {
  readonly ready: boolean;
  readonly listening: boolean;
  readonly draining: boolean;
  readonly store: StoreState;
  /** Why not ready, in words an operator reads in `/health/ready`. */
  readonly reasons: readonly string[];
}

/**
 * Ready = this process listens, is not draining, and the store answers now. Draining only ever
 * turns on (SIGTERM): from then on the load balancer must stop sending traffic here.
 */
export class Readiness extends EventEmitter<{ change: [ReadinessState] }> {
  private listening = false;
  private draining = false;
  /** Why the store is not in use yet (not connected, preflight pending): not ready meanwhile. */
  private waiting: string | undefined;
  private last: boolean;

  constructor(private readonly store: StoreHealth) {
    super();
    this.last = this.ready;
    store.on('change', () => this.changed());
  }

  get ready(): boolean {
    return this.listening && !this.draining && !this.waiting && this.store.up;
  }

  get state(): ReadinessState {
    const reasons: string[] = [];
    if (!this.listening) reasons.push('not listening yet');
    if (this.draining) reasons.push('draining: shutting down');
    if (this.waiting) reasons.push(this.waiting);
    else if (!this.store.up) {
      const s = this.store.status;
      reasons.push(
        s.state === 'unknown'
          ? 'store not checked yet'
          : `store unreachable: ${s.lastError ?? 'no answer'}`,
      );
    }
    return {
      ready: reasons.length === 0,
      listening: this.listening,
      draining: this.draining,
      store: this.store.status.state,
      reasons,
    };
  }

  setListening(listening: boolean): void {
    this.listening = listening;
    this.changed();
  }

  /**
   * Not ready for `reason` until called with undefined: a node that listens before its store is
   * connected (ADR 170) says why here, e.g. "store not connected yet: connection refused".
   */
  setWaiting(reason: string | undefined): void {
    this.waiting = reason;
    this.changed();
  }

  startDraining(): void {
    this.draining = true;
    this.changed();
  }

  private changed(): void {
    const now = this.ready;
    if (now === this.last) return;
    this.last = now;
    this.emit('change', this.state);
  }
}
