import YAML from 'yaml';
import { redactedSettings, Settings } from '../../config';

/** `holdfast config check`: prints the resolved settings, secrets redacted. */
export function configCheck(settings: Settings, json: boolean): number {
  const shown = redactedSettings(settings);
  process.stdout.write(json ? `${JSON.stringify(shown, null, 2)}\n` : YAML.stringify(shown));
  return 0;
}
