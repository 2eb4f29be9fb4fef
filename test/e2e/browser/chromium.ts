import { Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, never a downloaded browser (ENVIRONMENT.md flags). playwright gives each
 * launch a new, empty temporary profile (user-data-dir).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
