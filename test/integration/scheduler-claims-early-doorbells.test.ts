import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages, sweepRuns } from '../../db/schema/index.ts';
import { STAGES_PATH } from '../../src/scheduler/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { publishedFor, ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

async function stagesOf(t: Awaited<ReturnType<typeof createTestApp>>, actionId: string) {
  return t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);
}

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays). One file per case, so they run side by side.

describe('claims: early doorbells with a real clock', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
    flyTimeScale: 1,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('an early doorbell rings again for its due time and the stage starts then, not at the sweep', async () => {
    const fleet = await fleetOf(t, 2);
    const runAt = new Date(Math.ceil((t.clock.now().getTime() + 61_000) / 1000) * 1000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'early doorbell',
    });
    expect(res.status).toBe(201);
    const [stage] = await stagesOf(t, res.body.id);
    if (!stage?.doorbellMessageId) throw new Error('no stage doorbell');
    // Only the early doorbell's own re-ring may start the stage: withdraw the scheduled one.
    await t.deps.doorbells.cancel(stage.doorbellMessageId);
    // Skip most of the minute: the stage is due in 8 s, too far to wait for in the handler.
    t.clock.set(new Date(runAt.getTime() - 8000));
    const early = await ringStageNow(t, stage.id, 'msg_early_1');
    expect(early.body).toMatchObject({ ok: true, outcome: 'early', dueAt: runAt.toISOString() });
    // Another early delivery (QStash's clock still ahead) rings nothing more: one re-ring
    // per due time, never a loop.
    await ringStageNow(t, stage.id, 'msg_early_2');
    const rerung = (await publishedFor(t, STAGES_PATH, stage.id)).filter(
      (m) => m.messageId !== stage.doorbellMessageId,
    );
    expect(rerung).toHaveLength(1);
    expect(rerung[0]?.notBefore.getTime()).toBe(runAt.getTime());
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${res.body.id}`)).body.status, {
        timeout: 25_000,
        interval: 100,
      })
      .toBe('completed');
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(Date.parse(action.startedAt)).toBeGreaterThanOrEqual(runAt.getTime());
    expect(action.counts.applied).toBe(2);
    // No sweep ran: the re-ring alone started it.
    expect(await t.db.db.select().from(sweepRuns)).toHaveLength(0);
  }, 40_000);

  it('a doorbell a little early waits for the due time in the handler and starts the stage then', async () => {
    const fleet = await fleetOf(t, 1);
    const runAt = new Date(Math.ceil((t.clock.now().getTime() + 61_000) / 1000) * 1000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'a little early',
    });
    const [stage] = await stagesOf(t, res.body.id);
    if (!stage?.doorbellMessageId) throw new Error('no stage doorbell');
    await t.deps.doorbells.cancel(stage.doorbellMessageId);
    t.clock.set(new Date(runAt.getTime() - 1500));
    const run = await ringStageNow(t, stage.id, 'msg_little_early');
    expect(run.body).toMatchObject({ ok: true, outcome: 'progressed', started: 1 });
    const [after] = await stagesOf(t, res.body.id);
    expect(after?.startedAt?.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
    // It rang nothing for itself.
    expect(
      (await publishedFor(t, STAGES_PATH, stage.id)).filter(
        (m) => m.messageId !== stage.doorbellMessageId,
      ),
    ).toHaveLength(0);
  }, 30_000);
});
