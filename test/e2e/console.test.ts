import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { hasChromium, launchBrowser } from '../helpers/browser.ts';
import { makeAdmin, makeInstance, makeManyInstances, makeUser } from '../helpers/factories.ts';

describe.skipIf(!hasChromium)('admin console in a real browser', async () => {
  const t = await createTestApp({ serve: true });
  const base = t.origin;
  const admin = await makeAdmin(t, { mustChangePassword: true });
  await makeManyInstances(t, 60);
  const owner = await makeUser(t, { email: 'zelda@example.test', displayName: 'Zelda' });
  await makeInstance(t, { userId: owner.id, name: 'zelda-agent', region: 'sin' });
  let browser: Browser;
  let errors: string[] = [];
  // The deliberate wrong-password attempt answers 401; any other failed load is a bug.
  const expected = (text: string) => text.includes('status of 401');

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, replaces the one-time password, searches and pages through instances', async () => {
    const context = await browser.newContext({ timezoneId: 'Europe/Berlin' });
    const page = await context.newPage();
    errors = [];
    page.on('console', (m) => m.type() === 'error' && !expected(m.text()) && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${base}/admin`);
    await page.waitForURL(/\/admin\/login/);
    await page.fill('input[name=email]', admin.email);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.flash-error')).toContain('not correct');

    await page.fill('input[name=password]', admin.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin\/account\/password/);
    // Nothing else can be reached yet, so the navigation offers nothing else.
    expect(await page.locator('nav.nav a[href="/admin/instances"]').count()).toBe(0);
    await page.fill('input[name=currentPassword]', admin.password);
    await page.fill('input[name=newPassword]', 'my own long password');
    await page.fill('input[name=confirmPassword]', 'my own long password');
    await page.click('main button[type=submit]');
    // The Overview, saying the password took.
    await page.waitForURL(/\/admin$/);
    expect(await page.textContent('#flash')).toContain('Your own password is set');
    expect(await page.textContent('#chart-status')).toContain('61 instances');
    await page.click('nav.nav a:text("Instances")');
    await page.waitForURL(/\/admin\/instances/);
    expect(await page.textContent('#instances-table')).toContain('61 instances');

    // The browser's zone is picked up (app.js sets the tz cookie and reloads once).
    await expect.poll(() => page.getAttribute('body', 'data-zone')).toBe('Europe/Berlin');
    expect(await page.textContent('.nav .who')).toContain('Europe/Berlin');

    // Typing filters the table in place through htmx and updates the address.
    await page.fill('input[name=q]', 'zelda');
    await expect.poll(() => page.textContent('#instances-table')).toContain('1 instance matches');
    expect(page.url()).toContain('q=zelda');
    await page.fill('input[name=q]', '');
    await expect.poll(() => page.textContent('#instances-table')).toContain('61 instances');

    await page.click('a[rel=next]');
    await expect.poll(() => page.url()).toContain('cursor=');
    await page.click('a[rel=prev]');
    await expect.poll(() => page.locator('#instances-table tbody tr').count()).toBe(50);

    await page.click('text=zelda-agent');
    await page.waitForURL(/\/admin\/instances\/[0-9a-f-]{36}$/);
    expect(await page.textContent('h1')).toContain('zelda-agent');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('creates an API token, shows it once, and revokes it after a confirmation', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const other = await makeAdmin(t);
    await page.goto(`${base}/admin/login`);
    await page.fill('input[name=email]', other.email);
    await page.fill('input[name=password]', other.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin$/);
    await page.goto(`${base}/admin/settings`);
    await page.fill('section:has(h2:text("Admin API tokens")) input[name=label]', 'browser token');
    await page.click('section:has(h2:text("Admin API tokens")) button[type=submit]');
    const secret = (await page.textContent('#revealed-secret'))?.trim() ?? '';
    expect(secret).toMatch(/^fwa_[A-Za-z0-9]{40}$/);
    expect(
      (await fetch(`${base}/api/admin/me`, { headers: { Authorization: `Bearer ${secret}` } }))
        .status,
    ).toBe(200);

    await page.goto(`${base}/admin/settings`);
    expect(await page.content()).not.toContain(secret);
    await page.click('tr:has-text("browser token") button:text("Revoke")');
    expect(await page.textContent('#confirm-title')).toBe('Revoke "browser token"?');
    await page.click('#confirm-ok');
    await expect.poll(() => page.textContent('tr:has-text("browser token")')).toContain('revoked');
    expect(
      (await fetch(`${base}/api/admin/me`, { headers: { Authorization: `Bearer ${secret}` } }))
        .status,
    ).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('renders the API reference from our own assets under the CSP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/api/docs`);
    await expect
      .poll(() => page.locator('.swagger-ui .info .title').textContent(), { timeout: 15_000 })
      .toContain('fleetwarden API');
    expect(await page.locator('.opblock-summary-path').allTextContents()).toContain(
      '/admin/instances',
    );
    expect(problems).toEqual([]);
    await context.close();
  });
});
