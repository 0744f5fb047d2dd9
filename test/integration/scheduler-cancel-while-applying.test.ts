import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { adminSession, get, makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// Issue 18, defect 10: an action read `cancelled` (terminal) while targets it had claimed
// were still being applied. It must read `cancelling` until the last of them ends.

describe('cancel while targets are being applied (real clock)', async () => {
  // Machine updates (a restart is one) wait here until the test lets them go: the targets
  // stay `running` for exactly as long as the test needs.
  const held: (() => void)[] = [];
  let holding = true;
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
    wrapFly: (fly) => ({
      ...fly,
      async updateMachine(app, id, request, options) {
        if (holding) await new Promise<void>((go) => held.push(go));
        return fly.updateMachine(app, id, request, options);
      },
    }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const { cookie } = await adminSession(t);

  it('reads cancelling (API, list filter, console, audit) until the last running target ends, then cancelled', async () => {
    const fleet = await fleetOf(t, 6);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'cancel while applying',
      maxInFlight: 3,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    // Three targets claimed, their operations at the Fly call; three still pending.
    await expect.poll(() => held.length, { timeout: 10_000, interval: 20 }).toBe(3);

    const cancel = await call('POST', `/scheduled-actions/${id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelling');
    expect(cancel.body.counts).toMatchObject({ running: 3, cancelled: 3, pending: 0 });
    expect(cancel.body.cancelledAt).not.toBeNull();
    expect(cancel.body.completedAt).toBeNull();
    // A second cancel is a no-op answering the same state.
    expect((await call('POST', `/scheduled-actions/${id}/cancel`)).body.status).toBe('cancelling');
    // Neither pausable, resumable nor retryable while its targets are in flight.
    expect((await call('POST', `/scheduled-actions/${id}/pause`)).status).toBe(409);
    expect((await call('POST', `/scheduled-actions/${id}/retry-failed`)).status).toBe(409);

    // The list filters and sorts on it.
    const listed = await call('GET', '/scheduled-actions?status=cancelling');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a: { id: string }) => a.id)).toContain(id);
    expect((await call('GET', '/scheduled-actions?status=cancelled')).body.items).toHaveLength(0);
    expect((await call('GET', '/scheduled-actions?sort=status')).status).toBe(200);
    // The OpenAPI document lists the status.
    const doc = await t.app.request(t.url('/api/openapi.json'));
    expect(JSON.stringify(await doc.json())).toContain('cancelling');

    // The console: the badge says so, the progress keeps polling, no cancel button.
    const page = await get(t, `/admin/scheduler/${id}`, cookie);
    expect(page.status).toBe(200);
    const html = parse(await page.text());
    const progress = html.querySelector('#progress');
    expect(progress?.getAttribute('data-status')).toBe('cancelling');
    expect(progress?.getAttribute('hx-trigger')).toBe('every 2s');
    expect(progress?.querySelector('.badge')?.text).toBe('cancelling');
    expect(html.querySelector(`form[action="/admin/scheduler/${id}/cancel"]`)).toBeNull();
    const poll = await get(t, `/admin/scheduler/${id}/progress`, cookie, { 'HX-Request': 'true' });
    expect(poll.headers.get('HX-Refresh')).toBeNull();
    const filtered = await get(t, '/admin/scheduler?status=cancelling', cookie);
    expect(filtered.status).toBe(200);
    expect(await filtered.text()).toContain(id);

    const audit = async () =>
      (await call('GET', `/audit-log?subjectId=${id}`)).body.items as {
        action: string;
        payload: Record<string, unknown>;
      }[];
    expect(
      (await audit()).find((e) => e.action === 'scheduled_action.cancel')?.payload,
    ).toMatchObject({ status: 'cancelling', stillRunning: 3, cancelledTargets: 3 });

    // The machines finish their restarts: the last outcome ends the cancel.
    holding = false;
    for (const go of held.splice(0)) go();
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${id}`)).body.status, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('cancelled');
    const ended = (await call('GET', `/scheduled-actions/${id}`)).body;
    expect(ended.counts).toMatchObject({ running: 0, applied: 3, cancelled: 3, pending: 0 });
    expect(ended.completedAt).not.toBeNull();
    expect((await audit()).map((e) => e.action)).toContain('scheduled_action.cancelled');
    const after = await get(t, `/admin/scheduler/${id}/progress`, cookie, { 'HX-Request': 'true' });
    expect(after.headers.get('HX-Refresh')).toBe('true');
  }, 40_000);
});
