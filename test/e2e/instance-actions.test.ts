import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser, signedIn } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, IMAGES, provisioned, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('instance actions in a real browser', async () => {
  // Doorbells deliver on their own here, on a clock that runs with real time.
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const instance = await provisioned(t, api(t, key));
  const admin = await makeAdmin(t);
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('upgrades to latest after a confirmation and shows the action finish live', async () => {
    const { page, errors } = await signedIn(browser, t.origin, admin);
    await page.goto(`${t.origin}/admin/instances/${instance.id}`);

    // Declining the confirmation changes nothing: the dialog closes and nothing is sent.
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await page.click('button:text("Upgrade to latest now")');
    await page.click('#confirm-cancel');
    await page.waitForSelector('#confirm-dialog', { state: 'hidden' });
    expect(posts).toEqual([]);
    expect(await page.textContent('#operation')).toContain('Provision');

    await page.click('button:text("Upgrade to latest now")');
    expect(await page.textContent('#confirm-dialog')).toContain(IMAGES.latest);
    expect(await page.textContent('#confirm-ok')).toBe('Upgrade 1 instance');
    await page.click('#confirm-ok');
    await expect
      .poll(() => page.textContent('#operation'), { timeout: 15_000 })
      .toContain('Version change');
    await expect
      .poll(() => page.textContent('#operation'), { timeout: 20_000 })
      .toContain('succeeded');
    await expect.poll(() => page.textContent('main'), { timeout: 10_000 }).toContain(IMAGES.latest);
    expect(await page.textContent('.timeline')).toContain('Version changed');
    expect(errors).toEqual([]);
  });
});
