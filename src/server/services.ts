import type { Settings } from '../config';
import { SessionPolicy, SessionService } from '../session';
import { createEngine } from '../store';
import type { SessionEngine } from '../store/engine';
import { KeyLayout } from '../store/keys';

/** The parts every entry point (server, CLI) needs, built once from settings. */
export interface Services {
  readonly settings: Settings;
  readonly engine: SessionEngine;
  readonly layout: KeyLayout;
  readonly sessions: SessionService;
}

export function createServices(settings: Settings): Services {
  const layout = new KeyLayout(settings.store.redis.keyPrefix, settings.store.redis.shards);
  const engine = createEngine(settings);
  const sessions = new SessionService(engine, layout, new SessionPolicy(settings.session));
  return { settings, engine, layout, sessions };
}
