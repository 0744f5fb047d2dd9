import type { TestProject } from 'vitest/node';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from './chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared Chromium's WebSocket endpoint ('' when there is no Chromium). */
    browserWsEndpoint: string;
  }
}

/**
 * Once per run of the browser project: one Chromium that every browser test file connects
 * to (`launchBrowser()`), instead of each file starting its own (about a second of CPU
 * each on this 2-core machine). Files still get their own contexts, so they share no
 * cookies or pages.
 */
export default async function setup(project: TestProject) {
  if (!hasChromium) {
    project.provide('browserWsEndpoint', '');
    return;
  }
  const { chromium } = await import('playwright-core');
  const server = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  project.provide('browserWsEndpoint', server.wsEndpoint());
  return async () => {
    await server.close();
  };
}
