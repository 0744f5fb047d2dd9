import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser, signedIn } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { layoutProblems } from '../helpers/layout.ts';

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

  it('lays the Agents pages out with rules for every class, nothing sticking out, a small Enabled box and spaced buttons', async () => {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      timezoneId: 'Europe/Berlin',
    });
    const page = await context.newPage();
    await page.goto(`${t.origin}/admin/login`);
    await page.fill('input[name=email]', admin.email);
    await page.fill('input[name=password]', admin.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin$/);
    // app.js stores the browser's zone and reloads once; the preview then has two columns.
    await expect.poll(() => page.getAttribute('body', 'data-zone')).toBe('Europe/Berlin');

    await page.goto(`${t.origin}/admin/agents/new`);
    await page.fill('#time-zone', 'America/Los_Angeles');
    await page.locator('#time-zone').blur();
    await expect
      .poll(() => page.textContent('#cron-preview thead'))
      .toContain('In your zone, Europe/Berlin');
    expect(await layoutProblems(page), '/admin/agents/new').toEqual({
      unstyled: [],
      overflowing: [],
    });
    const enabled = await page.locator('input[name=enabled]').boundingBox();
    expect(enabled?.width).toBeLessThan(30);

    await page.selectOption('select[name=instance]', instance.id);
    await page.fill('input[name=name]', 'Layout check');
    await page.fill('textarea[name=prompt]', 'Say hello.');
    await page.click('#agent-form button[type=submit]');
    await page.waitForURL(/\/admin\/agents\/[0-9a-f-]{36}$/);
    expect(await layoutProblems(page), 'agent page').toEqual({ unstyled: [], overflowing: [] });
    expect(await page.getAttribute('a:text("← Agents")', 'href')).toBe('/admin/agents');
    // Run now, Pause and Delete side by side on one line, with space between them.
    const boxes = await Promise.all(
      ['Run now', 'Pause', 'Delete'].map((b) => page.locator(`button:text("${b}")`).boundingBox()),
    );
    const [run, pause, del] = boxes.map((b) => b ?? { x: 0, y: 0, width: 0, height: 0 });
    expect(pause?.y).toBe(run?.y);
    expect(del?.y).toBe(run?.y);
    expect((pause?.x ?? 0) - ((run?.x ?? 0) + (run?.width ?? 0))).toBeGreaterThanOrEqual(6);
    expect((del?.x ?? 0) - ((pause?.x ?? 0) + (pause?.width ?? 0))).toBeGreaterThanOrEqual(6);

    await page.goto(`${t.origin}/admin/agents`);
    expect(await layoutProblems(page), '/admin/agents').toEqual({
      unstyled: [],
      overflowing: [],
    });
    await context.close();
  });
});
