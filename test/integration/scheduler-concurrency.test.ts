import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages, scheduledActionTargets } from '../../db/schema/index.ts';
import { claimStep } from '../../src/fleet/operations/store.ts';
import {
  DEFAULT_MAX_IN_FLIGHT as STAGE_CONCURRENCY,
  STAGES_PATH,
} from '../../src/scheduler/model.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog, settleScheduler } from '../helpers/fleet.ts';
import { qstashSignature } from '../helpers/signing.ts';

describe('scheduled actions under concurrency and crashes', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const app = t.deps.config.fly.appName;
  const updatesOf = async (machineId: string) =>
    (await t.deps.fly.listMachineEvents(app, machineId)).filter(
      (e) => e.type === 'update' && e.source === 'user',
    ).length;
  const ringStage = async (stageId: string, messageId: string) => {
    const url = t.url(STAGES_PATH);
    const body = JSON.stringify({ stageId });
    return fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Upstash-Signature': await qstashSignature({ url, body }),
        'Upstash-Message-Id': messageId,
      },
      body,
    });
  };
  const firstStageId = async (actionId: string) => {
    const [stage] = await t.db.db
      .select({ id: scheduledActionStages.id })
      .from(scheduledActionStages)
      .where(eq(scheduledActionStages.actionId, actionId))
      .orderBy(scheduledActionStages.index);
    expect(stage).toBeDefined();
    return stage?.id ?? '';
  };
  const sweep = async () => {
    const url = t.url('/api/callbacks/sweep');
    return (
      await fetch(url, {
        method: 'POST',
        headers: { 'Upstash-Signature': await qstashSignature({ url, body: '{}' }) },
        body: '{}',
      })
    ).json();
  };

  it('lets exactly one of two concurrent schedule requests take an instance', async () => {
    const fleet = await fleetOf(t, 3);
    const ids = fleet.map((f) => f.id);
    const runAt = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    const [a, b] = await Promise.all([
      call('POST', '/scheduled-actions', {
        actionType: 'restart',
        instances: { ids },
        runAt,
        reason: 'a',
      }),
      call('POST', '/scheduled-actions', {
        actionType: 'restart',
        instances: { ids: [...ids].reverse() },
        runAt,
        reason: 'b',
      }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.type).toBe('/problems/already-scheduled');
    expect(loser.body.conflictingInstanceIds.sort()).toEqual([...ids].sort());
    const active = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(sql`${scheduledActionTargets.instanceId} in ${ids} and status = 'pending'`);
    expect(active).toHaveLength(3);
    await call('POST', `/scheduled-actions/${(a.status === 201 ? a : b).body.id}/cancel`);
  });

  it('applies each target once when 50 copies of the stage doorbell arrive at once', async () => {
    const fleet = await fleetOf(t, 12);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'duplicates',
    });
    const stageId = await firstStageId(res.body.id);
    t.clock.advance(1000);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ringStage(stageId, `msg_dup_stage_${i % 5}`)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action).toMatchObject({
      status: 'completed',
      counts: { total: 12, applied: 12, skipped: 0, failed: 0, cancelled: 0 },
    });
    expect(action.stages[0].counts).toMatchObject({ total: 12, applied: 12 });
    for (const f of fleet) expect(await updatesOf(f.machineId)).toBe(1);
  });

  it(`never has more than ${STAGE_CONCURRENCY} targets of a stage running, however many doorbells race`, async () => {
    const fleet = await fleetOf(t, STAGE_CONCURRENCY + 30);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'bounded',
    });
    const stageId = await firstStageId(res.body.id);
    t.clock.advance(1000);
    // Distinct message ids: every one of these handlers really runs and tries to claim.
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ringStage(stageId, `msg_bound_${i}`)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // No operation doorbell has been delivered yet, so nothing claimed has finished.
    const byStatus = await t.db.db
      .select({ status: scheduledActionTargets.status, n: sql<number>`count(*)::int` })
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id))
      .groupBy(scheduledActionTargets.status);
    expect(Object.fromEntries(byStatus.map((r) => [r.status, r.n]))).toEqual({
      running: STAGE_CONCURRENCY,
      pending: 30,
    });
    await settleScheduler(t);
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts).toMatchObject({
      total: STAGE_CONCURRENCY + 30,
      applied: STAGE_CONCURRENCY + 30,
    });
    for (const f of fleet) expect(await updatesOf(f.machineId)).toBe(1);
  }, 60_000);

  it('applies a target once when the handler of its operation died after claiming it', async () => {
    const fleet = await fleetOf(t, 3);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'crash',
    });
    const stageId = await firstStageId(res.body.id);
    t.clock.advance(1000);
    expect((await ringStage(stageId, 'msg_crash_stage')).status).toBe(200);
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    // Claimed and given their operations together: none is running without one.
    expect(targets.every((x) => x.status === 'running' && x.operationId && x.claimToken)).toBe(
      true,
    );
    // Every operation's first step is claimed by a handler that then dies.
    for (const x of targets)
      expect(await claimStep(t.db.db, x.operationId ?? '', t.clock.now(), 60_000)).not.toBeNull();
    await t.deliverDue();
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts.applied).toBe(0);
    t.clock.advance(2 * 60_000);
    const swept = await sweep();
    expect(swept.leasesReturned).toBeGreaterThanOrEqual(3);
    await settleScheduler(t);
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body).toMatchObject({
      status: 'completed',
      counts: { applied: 3 },
    });
    for (const f of fleet) expect(await updatesOf(f.machineId)).toBe(1);
  });

  it('keeps every counter exact when a cancel races the stage applying', async () => {
    const fleet = await fleetOf(t, 20);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'race',
    });
    const stageId = await firstStageId(res.body.id);
    t.clock.advance(1000);
    await Promise.all([
      ringStage(stageId, 'msg_race_1'),
      call('POST', `/scheduled-actions/${res.body.id}/cancel`),
      ringStage(stageId, 'msg_race_2'),
    ]);
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action.status).toBe('cancelled');
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    const by = (s: string) => targets.filter((x) => x.status === s).length;
    expect(by('pending') + by('running')).toBe(0);
    expect(action.counts).toEqual({
      total: 20,
      pending: 0,
      running: 0,
      applied: by('applied'),
      skipped: by('skipped'),
      failed: by('failed'),
      cancelled: by('cancelled'),
    });
    expect(by('applied') + by('cancelled')).toBe(20);
    const applied = targets.filter((x) => x.status === 'applied').map((x) => x.instanceId);
    for (const f of fleet)
      expect(await updatesOf(f.machineId)).toBe(applied.includes(f.id) ? 1 : 0);
    expect(
      await t.db.db
        .select()
        .from(scheduledActionTargets)
        .where(inArray(scheduledActionTargets.instanceId, applied)),
    ).toHaveLength(applied.length);
  });
});
