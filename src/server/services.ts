import type { Settings } from '../config';
import { SessionPolicy, SessionService } from '../session';
import { createEngine, StoreEngine } from '../store';
import type { SessionEngine } from '../store/engine';
import { KeyLayout } from '../store/keys';

/** The parts every entry point (server, CLI) needs, built once from settings. */
export interface Services {
  readonly settings: Settings;
  /** The engine the session service uses (wrapped by metrics when instrumented). */
  readonly engine: SessionEngine;
  /** The engine itself, unwrapped: the account stores and health share its Redis connection. */
  readonly store: StoreEngine;
  readonly layout: KeyLayout;
  readonly sessions: SessionService;
}

export interface ServicesOptions {
  /** Wraps the engine before the session service gets it (metrics timing every store call). */
  readonly instrument?: (engine: SessionEngine) => SessionEngine;
}

export function createServices(settings: Settings, options: ServicesOptions = {}): Services {
  const layout = new KeyLayout(settings.store.redis.keyPrefix, settings.store.redis.shards);
  const store = createEngine(settings);
  const engine = options.instrument ? options.instrument(store) : store;
  const sessions = new SessionService(engine, layout, new SessionPolicy(settings.session));
  return { settings, engine, store, layout, sessions };
}
