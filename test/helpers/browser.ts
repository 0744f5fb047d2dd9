import { existsSync } from 'node:fs';
import { type ServerType, serve } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import type { TestApp } from './app.ts';
import { freePort } from './process.ts';

/** Debian's Chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.error(`[e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium).`);

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    // The machine has no internet: keep Chromium from trying to reach Google's services.
    args: [
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

/** Serves a test app over real HTTP on localhost; the public URL must match the port. */
export async function serveTestApp(
  make: (publicUrl: string) => Promise<TestApp>,
): Promise<{ t: TestApp; base: string; server: ServerType }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await make(base);
  const server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
  return { t, base, server };
}
