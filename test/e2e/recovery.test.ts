import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser, signedIn } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('recovery in a real browser', async () => {
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

  it('Reconcile now notices a stopped machine; the instance card follows the recovery live to the end', async () => {
    const { page, errors } = await signedIn(browser, t.origin, admin);
    await page.click('nav >> text=Recoveries');
    expect(await page.textContent('main')).toContain('No recovery is running.');

    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    await page.click('button:text("Reconcile now")');
    expect(await page.textContent('#confirm-dialog')).toContain('Run a reconcile now?');
    await page.click('#confirm-ok');
    await expect
      .poll(() => page.textContent('#flash'), { timeout: 10_000 })
      .toContain('1 recovery begun');

    await page.goto(`${t.origin}/admin/instances/${instance.id}`);
    await expect
      .poll(() => page.textContent('#recovery'), { timeout: 20_000 })
      .toContain('started in place');
    expect(await page.textContent('#recovery')).toContain('succeeded');
    expect(await page.textContent('.timeline')).toContain('Recovered');
    await page.click('#recovery >> text=Details →');
    expect(await page.textContent('main')).toContain('Start in place');

    // Recover now asks first; declining changes nothing.
    await page.goto(`${t.origin}/admin/instances/${instance.id}`);
    await page.click('button:text("Recover now")');
    expect(await page.textContent('#confirm-dialog')).toContain('Recover');
    await page.click('#confirm-cancel');
    expect(errors).toEqual([]);
  });
});
