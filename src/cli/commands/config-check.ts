import YAML from 'yaml';
import type { Settings } from '../../config';
import type { Out } from '../output';
import { settingsView } from '../settings-view';

/**
 * `holdfast config check`: prints the resolved settings, secrets redacted and durations as written
 * in settings (`30m`), so the output reads back as a settings file.
 */
export function configCheck(settings: Settings, json: boolean, out: Out): number {
  const shown = settingsView(settings);
  out(json ? JSON.stringify(shown, null, 2) : YAML.stringify(shown).trimEnd());
  return 0;
}
