import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser, signedIn } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('agents in a real browser', async () => {
  // The real controller client against the simulator's controller on a started machine.
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

  it('creates an agent from a preset, previews it live across zones, runs it now and shows the session', async () => {
    const { page, errors } = await signedIn(browser, t.origin, admin);

    await page.goto(`${t.origin}/admin/agents/new`);
    await page.selectOption('select[name=instance]', instance.id);
    await page.fill('input[name=name]', 'Weekday digest');
    await page.fill('textarea[name=prompt]', 'Summarise what happened yesterday.');
    const zone = page.locator('#time-zone');
    await zone.fill('');
    await zone.pressSequentially('Europe/London');
    await expect.poll(() => page.textContent('#cron-preview thead')).toContain('Europe/London');
    await page.click('button:text("Weekdays at 9:00")');
    await expect.poll(() => page.inputValue('#cron-expression')).toBe('0 9 * * 1-5');
    await expect
      .poll(() => page.textContent('#cron-preview [data-description]'))
      .toContain('At 09:00, Monday through Friday');
    const rows = page.locator('#cron-preview [data-next-fires] tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    const london = await page.locator('#cron-preview time').first().getAttribute('datetime');
    expect(await page.textContent('#cron-preview thead')).toContain('Europe/London');

    // Another zone: the same wall-clock times are other instants.
    await zone.fill('');
    await zone.pressSequentially('Asia/Tokyo');
    await expect.poll(() => page.textContent('#cron-preview thead')).toContain('Asia/Tokyo');
    const tokyo = await page.locator('#cron-preview time').first().getAttribute('datetime');
    expect(tokyo).not.toBe(london);
    expect(new Date(tokyo ?? '').getUTCHours()).toBe(0);

    await page.click('#agent-form button[type=submit]');
    await page.waitForURL(/\/admin\/agents\/[0-9a-f-]{36}$/);
    expect(await page.textContent('.flash')).toContain('Agent Weekday digest created.');
    expect(await page.textContent('#sessions')).toContain('No sessions yet');

    await page.click('button:text("Run now")');
    await page.waitForURL(/#sessions$/);
    expect(await page.textContent('.flash')).toContain('Session started.');
    const session = page.locator('[data-sessions] tbody tr').first();
    expect(await session.textContent()).toContain('manual');
    expect(await session.locator('.badge').nth(1).textContent()).toMatch(
      /ready|creating|completed/,
    );
    expect(errors).toEqual([]);
  });
});
