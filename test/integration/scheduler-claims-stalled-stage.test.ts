import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceOperations, scheduledActionStages } from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { ringStageNow, sweepNow, userUpdates } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

async function stagesOf(t: Awaited<ReturnType<typeof createTestApp>>, actionId: string) {
  return t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);
}

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays). One file per case, so they run side by side.

describe('claims: a stage handler stalled inside its claim', async () => {
  const t = await createTestApp({ serve: true, clock: testClock(new Date(), { follow: true }) });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('applies each target once while a second handler, the sweep and a third ring race it', async () => {
    const fleet = await fleetOf(t, 6);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'stalled claim',
    });
    const [stage] = await stagesOf(t, res.body.id);
    if (!stage) throw new Error('no stage');
    const blocked = fleet[0]?.id ?? '';
    // Another transaction holds one instance's row while the handlers claim.
    let unlock = () => {};
    const held = new Promise<void>((r) => {
      unlock = r;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = t.db.db.transaction(async (tx) => {
      await tx.execute(sql`select id from instances where id = ${blocked} for update`);
      locked();
      await held;
    });
    await isLocked;
    // A and B race for the stage (B behind A's stage lock); the sweep finds no lease to
    // return (targets have none: a claim and its operations commit together or not at all).
    const a = ringStageNow(t, stage.id, 'msg_stall_a');
    const b = ringStageNow(t, stage.id, 'msg_stall_b');
    t.clock.advance(2 * 60_000);
    const swept = sweepNow(t);
    // None of them waits for the held instance: a claim skips a locked instance (SKIP
    // LOCKED) and leaves its target pending for a later ring.
    expect((await a).status).toBe(200);
    expect((await b).status).toBe(200);
    expect((await swept).leasesReturned).toBe(0);
    unlock();
    await holder;
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action).toMatchObject({ status: 'completed', counts: { applied: 6 } });
    for (const f of fleet) expect(await userUpdates(t, f.machineId)).toBe(1);
    const ops = await t.db.db
      .select({ instanceId: instanceOperations.instanceId })
      .from(instanceOperations)
      .where(
        inArray(
          instanceOperations.instanceId,
          fleet.map((f) => f.id),
        ),
      );
    expect(ops).toHaveLength(6);
  });
});
