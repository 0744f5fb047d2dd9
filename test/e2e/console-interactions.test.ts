import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoFleet } from '../../src/fleet/seed.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { hasChromium, launchBrowser } from '../helpers/browser.ts';
import { makeAdmin, makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, IMAGES, seedCatalog } from '../helpers/fleet.ts';

/**
 * The "Bugs seen" of issue 14, each reproduced in Chromium: a live rollout, the Deliveries
 * page, error pages, form results in the address bar, flashes, the bulk toolbar, plurals,
 * restart targets and the demo seed's times.
 */
describe.skipIf(!hasChromium)('console interactions, in a real browser', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedDemoFleet(t.deps, { users: 2 });
  await seedCatalog(t);
  const fleet = await fleetOf(t, 12);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
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
    await page.waitForURL(/\/admin(\/|$)/);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const badges = (row: string) => page.locator(`${row} .badge`).allTextContents();

  it('updates the targets table of a running rollout without a reload (1)', async () => {
    // Slow Fly down so the rollout is still running while the page watches it.
    await flyFaults(t, { latency: [{ endpoint: '*', ms: 700 }] });
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.slice(0, 10).map((f) => f.id) },
      runAt: 'now',
      rollout: { stages: [10, 100], intervalMinutes: 1, failureThresholdPercent: null },
      reason: 'live table',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    await page.goto(`${t.origin}/admin/scheduler/${id}`);
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });
    const first = page.locator('#targets-table tr[data-target-id]').first();
    expect(['pending', 'running']).toContain((await first.locator('.badge').textContent())?.trim());
    await expect
      .poll(() => first.locator('.badge').textContent(), { timeout: 20_000 })
      .toBe('applied');
    // The same document: no reload happened, the table refreshed itself.
    expect(
      await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce),
    ).toBe(true);
    expect(await first.locator('button:text("Cancel")').count()).toBe(0);
    // Stage 2 waits a minute: its rows are still pending, with their Cancel buttons.
    expect(await badges('#targets-table tr[data-target-id]:not(:first-child)')).toEqual(
      Array(9).fill('pending'),
    );
    await flyFaults(t, null);
  });

  it('cancels through a styled dialog that names the count, not confirm() (dialogs)', async () => {
    let native = 0;
    page.on('dialog', (d) => {
      native++;
      void d.dismiss();
    });
    await page.click('button:text("Cancel action")');
    const dialog = page.locator('#confirm-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('h2').textContent()).toBe('Cancel this action?');
    expect(await dialog.textContent()).toContain('Its 9 pending targets are cancelled');
    expect(await page.textContent('#confirm-ok')).toBe('Cancel 9 pending targets');
    await page.click('#confirm-cancel');
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.getAttribute('#progress', 'data-status')).toBe('running');

    await page.click('button:text("Cancel action")');
    await page.click('#confirm-ok');
    await expect
      .poll(() => page.textContent('#flash'))
      .toContain('Action cancelled: its pending targets were cancelled.');
    expect(native).toBe(0);
    page.removeAllListeners('dialog');
  });

  it('shows an htmx error inline instead of only in the console (1)', async () => {
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [fleet[10]?.id] },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'inline error',
    });
    expect(res.status).toBe(201);
    await page.route('**/progress', (route) =>
      route.fulfill({ status: 502, contentType: 'text/plain', body: 'Bad gateway' }),
    );
    await page.goto(`${t.origin}/admin/scheduler/${res.body.id}`);
    await expect
      .poll(() => page.textContent('#flash'), { timeout: 10_000 })
      .toContain('The server answered 502');
    await page.unroute('**/progress');
    // htmx reports the failed poll in the console too; nothing else may have gone wrong.
    const unexpected = errors.filter((e) => !/502|Response Status Error Code/.test(e));
    expect(unexpected).toEqual([]);
    errors.length = 0;
  });

  it("names doorbells with QStash's own states (2)", async () => {
    await page.goto(`${t.origin}/admin/deliveries`);
    const states = await page
      .locator('section:has(h2:text("Recent doorbells")) tbody .badge')
      .allTextContents();
    expect(states.length).toBeGreaterThan(0);
    const qstash = ['CREATED', 'ACTIVE', 'DELIVERED', 'ERROR', 'RETRY', 'FAILED', 'CANCELLED'];
    for (const s of states) expect(qstash).toContain(s);
    expect(states).toContain('DELIVERED');
    const text = (await page.textContent('main')) ?? '';
    expect(text).not.toContain('delivered delivered');
    expect(text).not.toContain('provisioning');
  });

  it('styles error pages and gives them the navigation (3)', async () => {
    for (const [path, status] of [
      ['/admin/no-such-page', 404],
      ['/admin/scheduler/not-an-id', 400],
    ] as const) {
      const res = await page.goto(`${t.origin}${path}`);
      expect(res?.status()).toBe(status);
      expect(await page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
      expect(await page.evaluate(() => getComputedStyle(document.body).margin)).toBe('0px');
      expect(await page.locator('nav.nav a[href="/admin/instances"]').count()).toBe(1);
      expect(await page.textContent('main h1')).toBeTruthy();
    }
    // The browser reports the deliberate 404 and 400 loads; nothing else.
    expect(errors.filter((e) => !/status of (404|400)/.test(e))).toEqual([]);
    errors.length = 0;
  });

  it('bulk Apply now with nothing ticked says so inline and opens nothing (6)', async () => {
    await page.goto(`${t.origin}/admin/instances`);
    await page.click('button:text("Apply now")');
    await expect
      .poll(() => page.textContent('#flash'))
      .toContain('tick at least one instance first');
    expect(await page.locator('#confirm-dialog').isVisible()).toBe(false);
    expect(await page.locator('details.panel[open]').count()).toBe(0);
    expect(page.url()).toBe(`${t.origin}/admin/instances`);
  });

  it('Schedule for later opens the scheduler at a future time (7)', async () => {
    await page.goto(`${t.origin}/admin/instances`);
    await page.locator('input[name=ids]').first().check();
    expect(await page.textContent('[data-selected-count]')).toBe('1 selected');
    await page.click('button:text("Schedule for later")');
    await page.waitForURL(/\/admin\/scheduler\?/);
    expect(await page.isChecked('input[name=when][value=later]')).toBe(true);
    const runAt = await page.inputValue('input[name=runAt]');
    // Tokyo wall-clock time, at least half an hour from now.
    expect(new Date(`${runAt}:00+09:00`).getTime()).toBeGreaterThan(Date.now() + 1_800_000);
  });

  it("Select all matching opens the scheduler on the list's filter with the version chosen beside it", async () => {
    await page.goto(`${t.origin}/admin/instances?region=ams`);
    await page.selectOption('select[name=targetImageTag]', IMAGES.old);
    await page.click('#select-all-matching');
    await page.waitForURL(/\/admin\/scheduler\?/);
    expect(await page.isChecked('input[name=pick][value=filter]')).toBe(true);
    expect(await page.isChecked('input[name=when][value=later]')).toBe(true);
    expect(await page.inputValue('select[name=filterRegion]')).toBe('ams');
    expect(await page.inputValue('select[name=targetImageTag]')).toBe(IMAGES.old);
  });

  it('applies now, then the address bar holds a page that reloads (4) with a one-shot flash (5)', async () => {
    await page.goto(`${t.origin}/admin/instances?q=${encodeURIComponent('fleet-')}`);
    await page.locator(`#instances-table input[name=ids][value="${fleet[7]?.id}"]`).check();
    await page.selectOption('select[name=targetImageTag]', IMAGES.old);
    await page.click('button:text("Apply now")');
    expect(await page.textContent('#confirm-title')).toBe(
      'Change the version of 1 ticked instance now?',
    );
    expect(await page.textContent('#confirm-ok')).toBe('Change 1 now');
    await page.click('#confirm-ok');
    await page.waitForURL(/\/admin\/scheduler\/[0-9a-f-]{36}$/);
    expect(page.url()).not.toContain('notice=');
    expect(await page.textContent('#flash')).toContain('Applying 1 instance now');
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    expect(await page.textContent('#flash')).not.toContain('Applying');

    // The confirmation step's address, opened again, is the form (not a 400).
    await page.goto(`${t.origin}/admin/scheduler`);
    await page.fill('textarea[name=ids]', fleet[11]?.id ?? '');
    await page.press('textarea[name=ids]', 'End');
    await expect
      .poll(() => page.textContent('#preview'), { timeout: 10_000 })
      .toContain('1 instance eligible');
    await page.fill('input[name=reason]', 'prg');
    await page.click('button:text("Review…")');
    await page.waitForURL(/\/admin\/scheduler\/confirm$/);
    const again = await page.goto(page.url());
    expect(again?.status()).toBe(200);
    expect(page.url()).toBe(`${t.origin}/admin/scheduler`);
    expect(await page.textContent('#flash')).toContain('Nothing was scheduled');
  });

  it('counts in words: "1 instance matches", "1 instance already has", "1 minute" (8)', async () => {
    await page.goto(`${t.origin}/admin/instances`);
    await page.fill('input[name=q]', 'agent-ada-0');
    await expect.poll(() => page.textContent('#instances-table')).toContain('1 instance matches');

    await page.goto(`${t.origin}/admin/scheduler`);
    // fleet[10] has the pending action scheduled above.
    await page.fill('textarea[name=ids]', [fleet[10]?.id, fleet[8]?.id, fleet[9]?.id].join('\n'));
    await page.press('textarea[name=ids]', 'End');
    await expect
      .poll(() => page.textContent('#preview'), { timeout: 10_000 })
      .toContain('1 instance already has a pending action');
    await page.check('input[name=skipAlreadyScheduled]');
    await page.fill('input[name=stages]', '50, 100');
    await page.fill('input[name=intervalMinutes]', '1');
    await page.fill('input[name=reason]', 'plurals');
    await page.click('button:text("Review…")');
    await page.waitForURL(/\/admin\/scheduler\/confirm$/);
    expect(await page.textContent('main')).toContain('1 minute between stages.');
    expect(await page.textContent('main')).not.toMatch(/\(s\)|1 minutes|1 instances/);
  });

  it('shows a restart target on its one version, not "1.1.0 → 1.1.0" (9)', async () => {
    await page.goto(`${t.origin}/admin/scheduler?sort=created`);
    await page.click('#actions-table a:text("Restart")');
    const version = await page.locator('#targets-table tr[data-target-id] td').nth(2).textContent();
    expect(version?.trim()).toBe('1.1.0');
  });

  it("shows a demo instance's Created time as its timeline does (9)", async () => {
    await page.goto(`${t.origin}/admin/instances?q=agent-ada-0`);
    await page.click('#instances-table a:text("agent-ada-0")');
    await page.waitForURL(/\/admin\/instances\/[0-9a-f-]{36}$/);
    const created = await page.locator('dt:text("Created") + dd time').getAttribute('datetime');
    const seeded = await page
      .locator('.timeline li:has-text("Created by the demo seed") time')
      .getAttribute('datetime');
    expect(created).toBeTruthy();
    expect(seeded).toBe(created);
    expect(errors).toEqual([]);
  });

  it('says "18 hr. ago" for 02:00 earlier the same day, "yesterday" only for the day before (issue 21, 7)', async () => {
    // The browser's clock at 20:00 in Berlin; the page's times relative to it.
    const context = await browser.newContext({ timezoneId: 'Europe/Berlin' });
    const berlin = await context.newPage();
    await berlin.clock.install({ time: new Date('2026-12-08T19:00:00Z') });
    await berlin.goto(`${t.origin}/admin/login`);
    await berlin.fill('input[name=email]', admin.email);
    await berlin.fill('input[name=password]', admin.password);
    await berlin.click('button[type=submit]');
    await berlin.waitForURL(/\/admin(\/|$)/);
    await expect.poll(() => berlin.getAttribute('body', 'data-zone')).toBe('Europe/Berlin');
    const shown = await berlin.evaluate(async () => {
      const at = {
        sameDay: '2026-12-08T01:00:00Z', // 02:00 in Berlin, 18 hours before
        dayBefore: '2026-12-07T08:00:00Z', // 09:00 the day before, 35 hours before
        nextDay: '2026-12-09T22:00:00Z', // 23:00 the next day, 27 hours after
        inAnHour: '2026-12-08T20:00:00Z',
      };
      const main = document.querySelector('main') as HTMLElement;
      for (const [name, datetime] of Object.entries(at)) {
        const time = document.createElement('time');
        time.dateTime = datetime;
        time.dataset.relative = 'true';
        time.id = `t-${name}`;
        main.append(time);
      }
      // What htmx fires after a swap: app.js writes the relative times then.
      document.dispatchEvent(new Event('htmx:afterSettle'));
      return Object.fromEntries(
        Object.keys(at).map((name) => [
          name,
          document.querySelector(`#t-${name} + .relative`)?.textContent,
        ]),
      );
    });
    expect(shown).toEqual({
      sameDay: ' (18 hr. ago)',
      dayBefore: ' (yesterday)',
      nextDay: ' (tomorrow)',
      inAnHour: ' (in 1 hr.)',
    });
    await context.close();
  });

  it('wraps audit action names only after a dot, never mid-word, on a narrow window (issue 21, 7)', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    await phone.goto(`${t.origin}/admin/login`);
    await phone.fill('input[name=email]', admin.email);
    await phone.fill('input[name=password]', admin.password);
    await phone.click('button[type=submit]');
    await phone.waitForURL(/\/admin(\/|$)/);
    await phone.goto(`${t.origin}/admin/audit`);
    const breaks = await phone.evaluate(() =>
      // The Action column's names, found by its heading.
      [...document.querySelectorAll('main table')]
        .flatMap((table) => {
          const column = [...table.querySelectorAll('thead th')].findIndex(
            (th) => th.textContent?.trim() === 'Action',
          );
          if (column < 0) return [];
          return [...table.querySelectorAll(`tbody td:nth-child(${column + 1}) code`)];
        })
        .map((code) => {
          // Each character's line (its top); a line ends where the next character's top differs.
          const text = code.textContent ?? '';
          const range = document.createRange();
          const tops: number[] = [];
          let offset = 0;
          for (const node of [...code.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE))
            for (let i = 0; i < (node.textContent ?? '').length; i++) {
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              tops[offset++] = Math.round(range.getBoundingClientRect().top);
            }
          const after: string[] = [];
          for (let i = 1; i < tops.length; i++)
            if (tops[i] !== tops[i - 1]) after.push(text.slice(0, i));
          return { text, after };
        }),
    );
    expect(breaks.length).toBeGreaterThan(0);
    // Something wrapped (so the check means something), and only ever after a dot.
    expect(breaks.some((b) => b.after.length > 0)).toBe(true);
    for (const b of breaks) for (const head of b.after) expect(head, b.text).toMatch(/\.$/);
    await context.close();
  });
});
