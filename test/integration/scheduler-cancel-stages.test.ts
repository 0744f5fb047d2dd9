// Cancel across stages, and the deployment-wide cap after a cancel.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  instanceOperations,
  scheduledActionStages,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

type T = Awaited<ReturnType<typeof createTestApp>>;

const stagesOf = (t: T, actionId: string) =>
  t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);

describe('cancelling the only target of a later stage', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('does not finish the action while its earlier stage still has work (it ends `failed` and strands stage 0)', async () => {
    const fleet = await fleetOf(t, 2);
    const runAt = new Date(t.clock.now().getTime() + 120_000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'cancel the canary-less stage',
      rollout: { stages: [50, 100], intervalMinutes: 0 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const stages = await stagesOf(t, res.body.id);
    expect(stages).toHaveLength(2);
    const [late] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.stageId, stages[1]?.id ?? ''));
    if (!late) throw new Error('no stage-1 target');
    const cancelled = await call('POST', `/scheduled-action-targets/${late.id}/cancel`);
    expect(cancelled.status).toBe(200);
    const after = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    // Observed: { status: 'failed', completedAt: set } while stage 0's target is pending.
    expect(after.status).toBe('scheduled');
    t.clock.advance(121_000);
    await settleScheduler(t, { maxRounds: 10 });
    const done = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(done).toMatchObject({ status: 'completed', counts: { applied: 1, cancelled: 1 } });
  });

  it('keeps the action going after a later stage’s only target is cancelled: stage 0 still applies, in order', async () => {
    const fleet = await fleetOf(t, 2);
    const runAt = new Date(t.clock.now().getTime() + 120_000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'no strand',
      rollout: { stages: [50, 100], intervalMinutes: 0 },
    });
    const stages = await stagesOf(t, res.body.id);
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    const late = targets.find((x) => x.stageId === stages[1]?.id);
    const early = targets.find((x) => x.stageId === stages[0]?.id);
    if (!late || !early) throw new Error('targets');
    await call('POST', `/scheduled-action-targets/${late.id}/cancel`);
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body.status).toBe('scheduled');
    t.clock.advance(121_000);
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action).toMatchObject({ status: 'completed', counts: { applied: 1, cancelled: 1 } });
    expect(action.stages.map((s: { status: string }) => s.status)).toEqual([
      'completed',
      'completed',
    ]);
    // Nothing is stranded: the instance can be scheduled again.
    const again = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [early.instanceId] },
      runAt: 'now',
      reason: 'again',
    });
    expect(again.status).toBe(201);
  });
});

describe('the deployment-wide cap after a cancel', async () => {
  const t = await createTestApp({ serve: true, env: { SCHEDULER_MAX_IN_FLIGHT: '3' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('keeps the targets of a cancelled action that are still being applied under the cap', async () => {
    const a = await fleetOf(t, 3);
    const b = await fleetOf(t, 3);
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
    const [stageA] = await stagesOf(t, actionA);
    expect((await ringStageNow(t, stageA?.id ?? '')).body).toMatchObject({ started: 3 });
    // A is cancelled while its 3 operations are still in flight (they finish on their own):
    // it reads `cancelling` until they have.
    expect((await call('POST', `/scheduled-actions/${actionA}/cancel`)).body.status).toBe(
      'cancelling',
    );
    const actionB = await schedule(
      b.map((f) => f.id),
      'B',
    );
    const [stageB] = await stagesOf(t, actionB);
    const runB = await ringStageNow(t, stageB?.id ?? '');
    const active = await t.db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(instanceOperations)
      .innerJoin(
        scheduledActionTargets,
        eq(scheduledActionTargets.operationId, instanceOperations.id),
      )
      .where(
        and(
          inArray(instanceOperations.status, ['pending', 'running']),
          inArray(scheduledActionTargets.actionId, [actionA, actionB]),
        ),
      );
    // Observed: B started 3 more, so 6 scheduled operations are in flight under a cap of 3.
    expect(runB.body).toMatchObject({ outcome: 'skipped', reason: 'at_cap' });
    expect(active[0]?.n).toBeLessThanOrEqual(3);
  });
});

describe('cancelling a middle stage', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('does not let the stage after it start before the canary has run and passed its gate', async () => {
    const fleet = await fleetOf(t, 4);
    const runAt = new Date(t.clock.now().getTime() + 120_000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'bypass',
      rollout: { stages: [25, 50, 100], intervalMinutes: 0, failureThresholdPercent: 0 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const stages = await stagesOf(t, res.body.id);
    expect(stages.map((s) => s.total)).toEqual([1, 1, 2]);
    const [middle] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.stageId, stages[1]?.id ?? ''));
    await call('POST', `/scheduled-action-targets/${middle?.id}/cancel`);
    t.clock.advance(121_000);
    // Stage 2's own doorbell arrives first (all three are due at the same instant).
    const run = await ringStageNow(t, stages[2]?.id ?? '');
    const [canary] = await stagesOf(t, res.body.id);
    expect(run.body).toMatchObject({ outcome: 'skipped', reason: 'waiting_for_previous' });
    expect(canary?.status).toBe('pending');
  });
});
