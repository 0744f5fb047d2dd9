// Stage doorbells: no loop under clock skew, and a stage held back by the cap is rung when it frees.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages, scheduledActionTargets } from '../../db/schema/index.ts';
import { OPERATIONS_PATH } from '../../src/fleet/operations/model.ts';
import { STAGES_PATH } from '../../src/scheduler/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { publishedFor } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

type T = Awaited<ReturnType<typeof createTestApp>>;
const stagesOf = (t: T, actionId: string) =>
  t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);

describe('QStash 3 s ahead of our clock', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('an early stage doorbell rings again a handful of times, not in a loop', async () => {
    const fleet = await fleetOf(t, 1);
    const runAt = new Date(Math.ceil((t.clock.now().getTime() + 61_000) / 1000) * 1000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'skew',
    });
    expect(res.status).toBe(201);
    const [stage] = await stagesOf(t, res.body.id);
    if (!stage) throw new Error('no stage');
    // The queue (and the publisher) keep t.clock; the app's handlers run 3 s behind it.
    const app = testClock(new Date(runAt.getTime() - 4500), { follow: true });
    (t.deps as { clock: unknown }).clock = app;
    t.clock.set(new Date(runAt.getTime() - 1500));
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${res.body.id}`)).body.status, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe('completed');
    const stageMessages = (await publishedFor(t, STAGES_PATH, stage.id)).length;
    const [target] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    const opMessages = (await publishedFor(t, OPERATIONS_PATH, target?.operationId ?? '')).length;
    expect(stageMessages).toBeLessThanOrEqual(5);
    expect(opMessages).toBeLessThanOrEqual(5);
  }, 30_000);
});

describe('a stage held back by the deployment-wide cap', async () => {
  const t = await createTestApp({ serve: true, env: { SCHEDULER_MAX_IN_FLIGHT: '2' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('is rung when the cap frees, not only by the sweep', async () => {
    const a = await fleetOf(t, 2);
    const b = await fleetOf(t, 2);
    const schedule = async (ids: string[], reason: string) => {
      const res = await call('POST', '/scheduled-actions', {
        actionType: 'restart',
        instances: { ids },
        runAt: 'now',
        reason,
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const actionA = await schedule(
      a.map((f) => f.id),
      'A',
    );
    const actionB = await schedule(
      b.map((f) => f.id),
      'B',
    );
    // Deliver everything due for 20 s (less than the sweep's 30 s grace): A runs first and
    // takes the cap; B's doorbell finds it full; A finishes and frees the cap.
    for (let round = 0; round < 20; round++) {
      await t.deliverDue();
      t.clock.advance(1000);
    }
    const A = (await call('GET', `/scheduled-actions/${actionA}`)).body;
    const B = (await call('GET', `/scheduled-actions/${actionB}`)).body;
    // Observed: one of them completes; the other stays running with 2 pending and no
    // doorbell anywhere: only the every-minute sweep (30 s grace) will ring it.
    expect([A.status, B.status]).toEqual(['completed', 'completed']);
  }, 30_000);
});
