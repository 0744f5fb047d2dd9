import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { scheduledActions } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, get, makeInstance } from '../helpers/factories.ts';
import { IMAGES, seedCatalog } from '../helpers/fleet.ts';

describe('the Overview at /admin', async () => {
  const t = await createTestApp();
  await seedCatalog(t);
  const { cookie } = await adminSession(t);
  const hx = { 'HX-Request': 'true' };

  const action = (over: Partial<typeof scheduledActions.$inferInsert>) =>
    t.db.db
      .insert(scheduledActions)
      .values({
        actionType: 'restart',
        reason: 'overview test',
        runAt: new Date(),
        stagePercents: [100],
        createdBy: 'seed',
        total: 4,
        ...over,
      })
      .returning()
      .then((rows) => rows[0]);

  it('charts the fleet by status, version and region from the data', async () => {
    for (const [region, status, imageTag] of [
      ['ams', 'running', IMAGES.current],
      ['ams', 'running', IMAGES.current],
      ['iad', 'stopped', IMAGES.old],
      ['sin', 'failed', IMAGES.current],
    ] as const)
      await makeInstance(t, {
        region,
        status,
        imageTag,
        ...(status === 'failed' ? { lastError: 'machine never became healthy' } : {}),
      });
    const res = await get(t, '/admin', cookie);
    expect(res.status).toBe(200);
    const doc = parse(await res.text());
    expect(doc.querySelector('nav a[aria-current="page"]')?.text).toBe('Overview');
    const bars = (id: string) =>
      Object.fromEntries(
        doc
          .querySelectorAll(`#${id} g[data-label]`)
          .map((g) => [g.getAttribute('data-label'), Number(g.getAttribute('data-value'))]),
      );
    expect(bars('chart-region')).toEqual({ ams: 2, iad: 1, sin: 1 });
    // Versions by their catalog label; the full tag on hover.
    expect(bars('chart-version')).toEqual({ '1.1.0': 3, '1.0.0': 1 });
    expect(doc.querySelector('#chart-version title')?.text).toBe(`${IMAGES.current}: 3`);
    const slices = doc.querySelectorAll('#chart-status path[data-label]');
    expect(slices.map((p) => p.getAttribute('data-label')).sort()).toEqual([
      'failed',
      'running',
      'stopped',
    ]);
    expect(doc.querySelector('#chart-status h2')?.text).toContain('4 instances by status');
    // The failed instance is listed with its reason and a link.
    const failed = doc.querySelector('#failed-instances li');
    expect(failed?.text).toContain('machine never became healthy');
    expect(failed?.querySelector('a')?.getAttribute('href')).toMatch(/^\/admin\/instances\//);
  });

  it('lists running and upcoming actions live, with a count in the navigation', async () => {
    const quiet = parse(await (await get(t, '/admin', cookie)).text());
    expect(quiet.querySelector('#overview-live')?.getAttribute('hx-get')).toBeUndefined();
    expect(quiet.querySelector('#nav-running')?.text).toBe('');

    const running = await action({ status: 'running', applied: 1 });
    const later = await action({ status: 'scheduled', runAt: new Date(Date.now() + 3_600_000) });
    const halted = await action({ status: 'halted', failed: 1 });
    const doc = parse(await (await get(t, '/admin/instances', cookie)).text());
    expect(doc.querySelector('#nav-running')?.text).toBe('1');
    expect(doc.querySelector('#nav-running')?.getAttribute('title')).toBe(
      '1 scheduled action running now',
    );
    // It re-reads itself, so it follows actions starting and finishing.
    expect(doc.querySelector('#nav-running')?.getAttribute('hx-trigger')).toBe('every 15s');
    const refreshed = await (await get(t, '/admin/overview/running', cookie, hx)).text();
    expect(refreshed).toMatch(/^<span id="nav-running" class="count"[^>]*>1<\/span>$/);

    const page = parse(await (await get(t, '/admin', cookie)).text());
    const rows = page.querySelectorAll('#overview-live tr[data-action-id]');
    expect(rows.map((r) => r.getAttribute('data-action-id'))).toEqual([running?.id, later?.id]);
    expect(page.querySelector('#overview-live')?.getAttribute('hx-trigger')).toBe('every 3s');
    const fragment = await (await get(t, '/admin/overview/live', cookie, hx)).text();
    expect(fragment).toMatch(/^<div id="overview-live"/);
    expect(fragment).toContain('1 applied');
    expect(page.querySelector('#failed-actions a')?.getAttribute('href')).toBe(
      `/admin/scheduler/${halted?.id}`,
    );
  });
});
