import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser } from '../helpers/browser.ts';
import { makeAdmin } from '../helpers/factories.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('the scheduler in a real browser', async () => {
  // Doorbells deliver on their own here, on a clock that runs with real time.
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const fleet = await fleetOf(t, 5);
  const admin = await makeAdmin(t);
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ timezoneId: 'Asia/Tokyo' })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${t.origin}/admin/login`);
    await page.fill('input[name=email]', admin.email);
    await page.fill('input[name=password]', admin.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin$/);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Fills the scheduler form with pasted ids and a reason; waits for the live preview. */
  async function fillForm(ids: string[], reason: string) {
    await page.goto(`${t.origin}/admin/scheduler`);
    // app.js reports the browser's zone; times are then shown in Tokyo.
    await expect.poll(() => page.getAttribute('body', 'data-zone')).toBe('Asia/Tokyo');
    await page.fill('textarea[name=ids]', ids.join('\n'));
    await page.press('textarea[name=ids]', 'End');
    await expect
      .poll(() => page.textContent('#preview'), { timeout: 10_000 })
      .toContain(`${ids.length} instances eligible`);
    await page.fill('input[name=reason]', reason);
  }

  it('schedules a restart of three instances now, confirms it and watches it complete', async () => {
    await fillForm(
      fleet.slice(0, 3).map((f) => f.id),
      'browser restart',
    );
    expect(await page.textContent('#preview')).toContain('Asia/Tokyo');
    await page.click('button:text("Review…")');
    await page.waitForURL(/\/admin\/scheduler\/confirm$/);
    expect(await page.textContent('h1')).toContain('Restart 3 instances');
    await page.click('button:text("Confirm and schedule")');
    await page.waitForURL(/\/admin\/scheduler\/[0-9a-f-]{36}$/);
    await expect
      .poll(() => page.getAttribute('#progress', 'data-status'), { timeout: 30_000 })
      .toBe('completed');
    expect(await page.textContent('#progress')).toContain('3 applied');
    expect(
      await page.locator('#targets-table tr[data-target-id] .badge').allTextContents(),
    ).toEqual(['applied', 'applied', 'applied']);
    expect(errors).toEqual([]);
  });

  it('schedules for an hour ahead in the admin zone and cancels one of its targets', async () => {
    await fillForm(
      fleet.slice(3, 5).map((f) => f.id),
      'browser later',
    );
    await page.check('input[name=when][value=later]');
    const runAt = zonedInputValue(new Date(Date.now() + 3_600_000), 'Asia/Tokyo');
    await page.fill('input[name=runAt]', runAt);
    await page.click('button:text("Review…")');
    await page.waitForURL(/\/admin\/scheduler\/confirm$/);
    const utc = new Date(`${runAt}:00+09:00`).toISOString().slice(0, 16).replace('T', ' ');
    expect(await page.textContent('#confirm-facts')).toContain(utc);
    await page.click('button:text("Confirm and schedule")');
    await page.waitForURL(/\/admin\/scheduler\/[0-9a-f-]{36}$/);
    expect(await page.getAttribute('#progress', 'data-status')).toBe('scheduled');

    const rows = page.locator('#targets-table tr[data-target-id]');
    expect(await rows.count()).toBe(2);
    const first = await rows.nth(0).getAttribute('data-target-id');
    const second = await rows.nth(1).getAttribute('data-target-id');
    await rows.nth(0).locator('button:text("Cancel")').click();
    expect(await page.textContent('#confirm-ok')).toBe('Cancel 1 target');
    await page.click('#confirm-ok');
    await expect.poll(() => page.textContent('main')).toContain('Target cancelled.');
    await expect
      .poll(() => page.textContent(`tr[data-target-id="${first}"]`))
      .toContain('cancelled');
    expect(await page.textContent(`tr[data-target-id="${second}"]`)).toContain('pending');
    expect(await page.getAttribute('#progress', 'data-status')).toBe('scheduled');
    expect(errors).toEqual([]);
  });
});
