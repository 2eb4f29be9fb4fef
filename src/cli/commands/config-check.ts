import YAML from 'yaml';
import { redactedSettings, Settings } from '../../config';
import type { Out } from '../output';

/** `holdfast config check`: prints the resolved settings, secrets redacted. */
export function configCheck(settings: Settings, json: boolean, out: Out): number {
  const shown = redactedSettings(settings);
  out(json ? JSON.stringify(shown, null, 2) : YAML.stringify(shown).trimEnd());
  return 0;
}
