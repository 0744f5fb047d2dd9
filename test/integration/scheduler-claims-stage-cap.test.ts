import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages } from '../../db/schema/index.ts';
import { STAGES_PATH } from '../../src/scheduler/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { publishedFor, userUpdates } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stagesOf(t: Awaited<ReturnType<typeof createTestApp>>, actionId: string) {
  return t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);
}

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays). One file per case, so they run side by side.

describe('claims: a stage at its cap, with a real clock', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
    flyTimeScale: 1,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('a stage at its cap does not ring itself: one doorbell per freed wave, none while full', async () => {
    const fleet = await fleetOf(t, 60);
    // Every update takes 6 s to answer: the stage sits at its cap of 20 meanwhile.
    await flyFaults(t, { latency: [{ endpoint: 'update_machine', ms: 6000 }] });
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'at the cap',
      maxInFlight: 20,
    });
    const [stage] = await stagesOf(t, res.body.id);
    if (!stage) throw new Error('no stage');
    await expect
      .poll(
        async () => (await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts.running,
        { timeout: 5000, interval: 50 },
      )
      .toBe(20);
    await sleep(4000);
    // Full for 4 s: only the due doorbell was published for the stage.
    expect(await publishedFor(t, STAGES_PATH, stage.id)).toHaveLength(1);
    await flyFaults(t, null);
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${res.body.id}`)).body.status, {
        timeout: 40_000,
        interval: 200,
      })
      .toBe('completed');
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action.counts).toMatchObject({ total: 60, applied: 60 });
    // Refills come in waves of 2 (a tenth of 20): at most one doorbell per wave after the first.
    const published = await publishedFor(t, STAGES_PATH, stage.id);
    expect(published.length).toBeLessThanOrEqual(1 + 40 / 2);
    for (const f of fleet) expect(await userUpdates(t, f.machineId)).toBe(1);
  }, 60_000);
});
