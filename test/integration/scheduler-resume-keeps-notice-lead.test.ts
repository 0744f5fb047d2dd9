import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionNotices, scheduledActionTargets } from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// Issue 18, defect 6: paused across the notice time and the stage time, a resume rang the
// stage at once; the re-due notice lost the race ("the action reached this instance before
// the notice was sent") and the restart went out unannounced. A resume now moves such a
// stage to now + lead, and the notice goes out at once saying the new time.

describe('resume after a pause across the notice and the stage time (real clock)', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const LEAD_MS = 60_000;

  it('sends every notice with its full lead before the restart', async () => {
    const fleet = await fleetOf(t, 2);
    const runAt = new Date(t.clock.now().getTime() + 3 * 60_000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'pause across the notice',
      leadMinutes: LEAD_MS / 60_000,
      channels: ['email'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    expect((await call('POST', `/scheduled-actions/${id}/pause`)).status).toBe(200);
    // Paused past the notice time (runAt − 1 min) and the stage time (runAt).
    t.clock.advance(4 * 60_000);

    const resumedAt = t.clock.now();
    const resumed = await call('POST', `/scheduled-actions/${id}/resume`);
    expect(resumed.status).toBe(200);
    const notices = () =>
      t.db.db.select().from(scheduledActionNotices).where(eq(scheduledActionNotices.actionId, id));
    const targets = () =>
      t.db.db.select().from(scheduledActionTargets).where(eq(scheduledActionTargets.actionId, id));
    // Whichever comes first: the notices all sent, or a target claimed.
    await expect
      .poll(
        async () =>
          (await notices()).every((n) => n.status === 'sent') ||
          (await targets()).some((x) => x.status !== 'pending'),
        { timeout: 10_000, interval: 25 },
      )
      .toBe(true);
    expect((await targets()).map((x) => x.status)).toEqual(['pending', 'pending']);
    expect((await notices()).map((n) => n.status)).toEqual(['sent', 'sent']);
    const outbox = (await call('GET', `/outbox?actionId=${id}`)).body.items as unknown[];
    expect(outbox).toHaveLength(2);

    // The stage moved to resume + lead; the notices and the API say the new time.
    const action = (await call('GET', `/scheduled-actions/${id}`)).body;
    const stageAt = new Date(action.stages[0].scheduledAt).getTime();
    expect(stageAt).toBeGreaterThanOrEqual(resumedAt.getTime() + LEAD_MS);
    expect(new Date(action.runAt).getTime()).toBe(stageAt);
    for (const n of await notices()) expect(n.actionAt.getTime()).toBe(stageAt);
    const audit = (await call('GET', `/audit-log?subjectId=${id}&action=scheduled_action.resume`))
      .body.items[0];
    expect(audit.payload.noticeLead).toMatchObject({ leadMinutes: 1 });

    // The lead passes: the stage runs, each notice sent a full lead before its target.
    t.clock.advance(LEAD_MS + 1000);
    await expect
      .poll(async () => (await targets()).map((x) => x.status), { timeout: 15_000, interval: 50 })
      .toEqual(['applied', 'applied']);
    const sent = await notices();
    for (const target of await targets()) {
      const notice = sent.find((n) => n.targetId === target.id);
      expect(notice?.sentAt).toBeTruthy();
      expect(target.claimedAt?.getTime()).toBeGreaterThanOrEqual(
        (notice?.sentAt?.getTime() ?? Number.POSITIVE_INFINITY) + LEAD_MS - 1000,
      );
    }
  }, 40_000);

  it('keeps only the warning a notice promised: an action due now is not delayed by its lead', async () => {
    const fleet = await fleetOf(t, 1);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'now, with a long lead',
      leadMinutes: 600,
      channels: ['email'],
      maxInFlight: 1,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    const planned = (await call('GET', `/scheduled-actions/${id}`)).body.stages[0].scheduledAt;
    expect((await call('POST', `/scheduled-actions/${id}/pause`)).status).toBe(200);
    expect((await call('POST', `/scheduled-actions/${id}/resume`)).status).toBe(200);
    expect((await call('GET', `/scheduled-actions/${id}`)).body.stages[0].scheduledAt).toBe(
      planned,
    );
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${id}`)).body.status, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('completed');
  }, 30_000);
});
