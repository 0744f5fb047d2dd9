import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser, signedIn } from '../helpers/browser.ts';
import { makeAdmin } from '../helpers/factories.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('CLI runs in a real browser', async () => {
  // Doorbells deliver on their own, on a clock that runs with real time; the simulator runs
  // at 0.01, so `duration=1000s` is 10 s of real time (followed every 2 s).
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const [first, second] = await fleetOf(t, 2);
  if (!first || !second) throw new Error('no instances');
  const admin = await makeAdmin(t);
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function start(page: Page, prompt: string) {
    await page.fill('textarea[name=prompt]', prompt);
    await page.click('button:text("Start CLI run")');
    expect(await page.textContent('#confirm-dialog')).toContain('the instance is busy');
    await page.click('#confirm-ok');
    await page.waitForSelector('pre[data-cli-stream]');
  }

  it('starts a run from the instance page, shows its output arriving live, then its completion', async () => {
    const { page, errors } = await signedIn(browser, t.origin, admin);
    await page.goto(`${t.origin}/admin/instances/${first.id}`);
    await start(page, '#sim duration=1000s lines=10\nrepair the agent');
    expect(await page.textContent('#flash')).toContain('CLI run started');
    // Output grows while the page stays the same (no reload): it is streamed in.
    const sizes = new Set<number>();
    await expect
      .poll(
        async () => {
          const pre = await page.$('pre[data-cli-stream]');
          const text = pre ? ((await pre.textContent()) ?? '') : '';
          if (text) sizes.add(text.length);
          return sizes.size;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBeGreaterThanOrEqual(2);
    // The byte count beside it follows the stream: it equals the bytes shown so far.
    await expect
      .poll(async () => {
        const text = (await page.textContent('pre[data-cli-stream]')) ?? '';
        const shown = Number(await page.textContent('[id^=cli-bytes-]'));
        return shown > 0 && shown === new TextEncoder().encode(text).length;
      })
      .toBe(true);
    // When the run ends the page reloads on its own and shows the outcome.
    await expect
      .poll(() => page.textContent('#cli-run'), { timeout: 30_000 })
      .toContain('completed');
    expect(await page.$('pre[data-cli-stream]')).toBeNull();
    expect(await page.textContent('#cli-run')).toContain('Start CLI run');
    expect(await page.textContent('.timeline')).toContain('CLI run completed');
    expect(errors).toEqual([]);
  }, 60_000);

  it('cancels another run after a confirmation', async () => {
    const { page, errors } = await signedIn(browser, t.origin, admin);
    await page.goto(`${t.origin}/admin/instances/${second.id}`);
    await start(page, '#sim duration=3600s lines=100');
    await page.click('button:text("Cancel run")');
    expect(await page.textContent('#confirm-dialog')).toContain('the output so far is kept');
    await page.click('#confirm-ok');
    await expect
      .poll(() => page.textContent('#flash'), { timeout: 15_000 })
      .toContain('The CLI run was cancelled');
    expect(await page.textContent('#cli-run')).toContain('cancelled');
    expect(await page.$('pre[data-cli-stream]')).toBeNull();
    expect(errors).toEqual([]);
  });
});
