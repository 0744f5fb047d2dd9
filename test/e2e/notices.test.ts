import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey, ownerHeader } from '../helpers/factories.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';

describe.skipIf(!hasChromium)('notices in a real browser', async () => {
  // Doorbells deliver on their own, on a clock that runs with real time.
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const [instance] = await fleetOf(t, 1);
  const admin = await makeAdmin(t);
  const platform = (await makeApiKey(t, 'platform')).key;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ timezoneId: 'Europe/Paris' })).newPage();
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
  const banner = async () => {
    const res = await page.request.get(
      `${t.origin}/api/platform/instances/${instance?.id}/status`,
      {
        headers: {
          Authorization: `Bearer ${platform}`,
          ...(await ownerHeader(t, `/instances/${instance?.id}`)),
        },
      },
    );
    expect(res.status()).toBe(200);
    return (await res.json()) as { upcomingAction: { actionId: string; subject: string } | null };
  };

  it('schedules with notify on and a short lead: the Outbox message and the banner JSON appear', async () => {
    expect((await banner()).upcomingAction).toBeNull();
    await page.goto(`${t.origin}/admin/scheduler`);
    await expect.poll(() => page.getAttribute('body', 'data-zone')).toBe('Europe/Paris');
    await page.fill('textarea[name=ids]', instance?.id ?? '');
    await page.check('input[name=when][value=later]');
    // Two minutes ahead with a lead of five: the lead window is already open.
    await page.fill(
      'input[name=runAt]',
      zonedInputValue(new Date(Date.now() + 180_000), 'Europe/Paris'),
    );
    await page.fill('input[name=leadMinutes]', '5');
    await page.fill('input[name=noticeSubject]', 'Browser notice');
    await page.fill('textarea[name=noticeBody]', 'Hello from the browser test');
    await page.fill('input[name=reason]', 'browser notices');
    await expect
      .poll(() => page.textContent('#preview'), { timeout: 10_000 })
      .toContain('Browser notice');
    await page.click('button:text("Review…")');
    await page.waitForURL(/\/admin\/scheduler\/confirm$/);
    await page.click('button:text("Confirm and schedule")');
    await page.waitForURL(/\/admin\/scheduler\/[0-9a-f-]{36}$/);
    const actionId = page.url().split('/').pop() ?? '';
    await expect
      .poll(async () => (await banner()).upcomingAction?.actionId ?? null, { timeout: 15_000 })
      .toBe(actionId);
    expect((await banner()).upcomingAction?.subject).toBe('Browser notice');
    await expect
      .poll(
        async () => {
          await page.goto(`${t.origin}/admin/outbox?channel=email`);
          return page.locator('#outbox tr[data-outbox-id]').count();
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    await page.click('#outbox a:text("Browser notice")');
    await page.waitForURL(/\/admin\/outbox\/[0-9a-f-]{36}$/);
    expect(await page.textContent('main')).toContain('Hello from the browser test');
    const frame = page.frameLocator('iframe.outbox-html');
    await expect
      .poll(() => frame.locator('body').textContent())
      .toContain('Hello from the browser test');
    // The email is shown whole: the frame is as tall as its document (not the browser's
    // default 300 × 150) and as wide as its panel.
    await expect
      .poll(() =>
        page.$eval('iframe.outbox-html', (f) => {
          const frame = f as HTMLIFrameElement;
          const root = frame.contentDocument?.documentElement;
          return root ? root.scrollHeight - frame.clientHeight : null;
        }),
      )
      .toBe(0);
    const box = await page.locator('iframe.outbox-html').boundingBox();
    expect(box?.height).toBeGreaterThan(154);
    expect(box?.width).toBeGreaterThan(600);
    await page.request.post(`${t.origin}/admin/scheduler/${actionId}/cancel`, {
      headers: { Origin: t.origin },
    });
    expect(errors).toEqual([]);
  });
});
