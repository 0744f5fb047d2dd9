import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from './chromium.ts';

export { hasChromium };

if (!hasChromium)
  console.error(`[e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium).`);

/**
 * The run's shared Chromium (started once by test/helpers/browser-setup.ts), or a Chromium
 * of its own where that setup did not run. `close()` on a shared one only disconnects
 * this file and closes the contexts it made.
 */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const shared = inject('browserWsEndpoint');
  if (shared) return chromium.connect(shared);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A fresh browser context signed in to the console as `admin` (through the real sign-in
 * form), on the Overview. `errors` collects the page's uncaught script errors.
 */
export async function signedIn(
  browser: Browser,
  origin: string,
  admin: { email: string; password: string },
): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/admin/login`);
  await page.fill('input[name=email]', admin.email);
  await page.fill('input[name=password]', admin.password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin$/);
  return { page, errors };
}
