import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoFleet } from '../../src/fleet/seed.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, settleScheduler } from '../helpers/fleet.ts';

/**
 * Every console page at 1280 × 800 and 1920 × 1080 in Chromium: each must load our
 * stylesheet, fit the window's width (no sideways scrolling) and log no console error.
 * The screenshots land in test-results/screenshots/ (git-ignored) for a reviewer to look at.
 */
export const SCREENSHOTS = join('test-results', 'screenshots');

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

describe.skipIf(!hasChromium)('every console page, at two window sizes', async () => {
  const t = await createTestApp({ serve: true, clock: testClock(new Date(), { follow: true }) });
  await seedDemoFleet(t.deps, { users: 24 });
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const instances = (await call('GET', '/instances?limit=24')).body.items as {
    id: string;
    imageTag: string;
  }[];
  // A finished rollout, a failed one and one for later, so the pages show real rows.
  const done = await call('POST', '/scheduled-actions', {
    actionType: 'restart',
    instances: { ids: instances.slice(0, 6).map((i) => i.id) },
    runAt: 'now',
    rollout: { stages: [50, 100], intervalMinutes: 0, failureThresholdPercent: null },
    reason: 'weekly restart',
  });
  expect(done.status, JSON.stringify(done.body)).toBe(201);
  await settleScheduler(t);
  const later = await call('POST', '/scheduled-actions', {
    actionType: 'version_change',
    instances: { filter: { region: 'sin' } },
    targetImageTag: 'registry.fly.io/fleetwarden-agent:1.6.0',
    runAt: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    rollout: { stages: [10, 50, 100], intervalMinutes: 30, failureThresholdPercent: 10 },
    skipAlreadyScheduled: true,
    reason: 'roll out 1.6.0 to Singapore',
  });
  expect(later.status, JSON.stringify(later.body)).toBe(201);
  const admin = await makeAdmin(t);
  const forced = await makeAdmin(t, { mustChangePassword: true });

  const pages: { name: string; path: string; status?: number }[] = [
    { name: 'overview', path: '/admin' },
    { name: 'instances', path: '/admin/instances' },
    { name: 'instance', path: `/admin/instances/${instances[0]?.id}` },
    { name: 'scheduler', path: '/admin/scheduler' },
    { name: 'action-finished', path: `/admin/scheduler/${done.body.id}` },
    { name: 'action-scheduled', path: `/admin/scheduler/${later.body.id}` },
    { name: 'recoveries', path: '/admin/recoveries' },
    { name: 'deliveries', path: '/admin/deliveries' },
    { name: 'audit', path: '/admin/audit' },
    { name: 'settings', path: '/admin/settings' },
    { name: 'password', path: '/admin/account/password' },
    { name: 'cli-runs', path: '/admin/cli-runs' },
    { name: 'agents', path: '/admin/agents' },
    { name: 'agent-new', path: '/admin/agents/new' },
    { name: 'not-found', path: '/admin/no-such-page', status: 404 },
  ];

  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function signedIn(viewport: (typeof VIEWPORTS)[number], who = admin) {
    const context = await browser.newContext({ viewport, timezoneId: 'Europe/Berlin' });
    const page = await context.newPage();
    await page.goto(`${t.origin}/admin/login`);
    await page.fill('input[name=email]', who.email);
    await page.fill('input[name=password]', who.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin(\/account\/password)?$/);
    // app.js stores the browser's zone and reloads once; let that settle first.
    await expect.poll(() => page.getAttribute('body', 'data-zone')).toBe('Europe/Berlin');
    return page;
  }

  /** Loads `path`, checks it, and writes the screenshot. */
  async function check(page: Page, name: string, path: string | null, status = 200) {
    const errors: string[] = [];
    const onConsole = (m: { type(): string; text(): string }) => {
      if (m.type() === 'error' && !(status !== 200 && m.text().includes(`status of ${status}`)))
        errors.push(m.text());
    };
    page.on('console', onConsole);
    page.on('pageerror', (e) => errors.push(e.message));
    if (path) {
      const res = await page.goto(`${t.origin}${path}`);
      expect(res?.status(), `${name}: status`).toBe(status);
    }
    // Settled: loaded, and no htmx request, swap or settle in flight (htmx marks the elements
    // involved with these classes meanwhile: htmx.org/docs, "Request Indicators" and
    // "CSS transitions"). Quicker than Playwright's networkidle, which waits 500 ms of quiet.
    await page.waitForLoadState('load');
    await page.waitForFunction(
      () => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added'),
    );
    const facts = await page.evaluate(() => ({
      sheets: document.styleSheets.length,
      bodyMargin: getComputedStyle(document.body).margin,
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
      // A table wider than its panel scrolls sideways inside it: that counts too.
      scrolling: [...document.querySelectorAll('.table-wrap')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.closest('[id]')?.id ?? e.parentElement?.className ?? '?'),
    }));
    const size = page.viewportSize();
    await page.screenshot({
      path: join(SCREENSHOTS, `${name}-${size?.width}x${size?.height}.png`),
      fullPage: true,
    });
    page.off('console', onConsole);
    expect(facts.sheets, `${name}: stylesheet`).toBeGreaterThan(0);
    expect(facts.bodyMargin, `${name}: our styles applied`).toBe('0px');
    expect(
      facts.scrollWidth,
      `${name}: sideways scroll (${facts.wide.join(', ')})`,
    ).toBeLessThanOrEqual(facts.innerWidth);
    expect(facts.scrolling, `${name}: tables scrolling sideways`).toEqual([]);
    expect(errors, `${name}: console errors`).toEqual([]);
  }

  for (const viewport of VIEWPORTS) {
    it(`renders every page at ${viewport.width} × ${viewport.height}`, {
      timeout: 120_000,
    }, async () => {
      const anonymous = await (await browser.newContext({ viewport })).newPage();
      await check(anonymous, 'login', '/admin/login');
      await anonymous.context().close();

      const page = await signedIn(viewport);
      for (const p of pages) await check(page, p.name, p.path, p.status);

      // The confirmation step is a POST result: reach it as an admin does.
      await page.goto(`${t.origin}/admin/scheduler`);
      await page.check('input[name=pick][value=filter]');
      await page.selectOption('select[name=filterRegion]', 'ams');
      await page.fill('input[name=reason]', 'screenshot');
      await page.check('input[name=skipAlreadyScheduled]');
      await page.click('button:text("Review…")');
      await page.waitForURL(/\/admin\/scheduler\/confirm$/);
      await check(page, 'confirm', null);

      // The confirmation dialog, open over the page.
      await page.goto(`${t.origin}/admin/scheduler/${later.body.id}`);
      await page.click('button:text("Cancel action")');
      await check(page, 'dialog', null);
      await page.context().close();

      const first = await signedIn(viewport, forced);
      await check(first, 'first-password', null);
      await first.context().close();
    });
  }
});
