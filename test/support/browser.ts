import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (CI's .ci/run installs it); tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless chromium with everything that would reach the network on its own turned off.
 * Throws (the test fails, it does not skip) when the browser is not installed.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it with ` +
        '`apt-get install -y chromium` (CI does) or set CHROMIUM_PATH. Browser tests do not skip.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
