import YAML from 'yaml';
import { Settings, workerSizing } from '../../config';
import type { Out } from '../output';
import { settingsView } from '../settings-view';

/**
 * `holdfast config check`: prints the resolved settings, secrets redacted and durations as written
 * in settings (`30m`), so the output reads back as a settings file.
 */
export function configCheck(settings: Settings, json: boolean, out: Out): number {
  const shown = settingsView(settings);
  // How `workers` was chosen, as a YAML comment so the output still reads back as a settings file.
  if (!json) out(`# ${workerSizing(settings).reason}`);
  out(json ? JSON.stringify(shown, null, 2) : YAML.stringify(shown).trimEnd());
  return 0;
}
