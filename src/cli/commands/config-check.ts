import YAML from 'yaml';
import { redactedSettings, Settings, workerSizing } from '../../config';
import type { Out } from '../output';

/** `holdfast config check`: prints the resolved settings, secrets redacted. */
export function configCheck(settings: Settings, json: boolean, out: Out): number {
  const shown = redactedSettings(settings);
  // How `workers` was chosen, as a YAML comment so the output still reads back as a settings file.
  if (!json) out(`# ${workerSizing(settings).reason}`);
  out(json ? JSON.stringify(shown, null, 2) : YAML.stringify(shown).trimEnd());
  return 0;
}
