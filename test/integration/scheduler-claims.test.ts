import { and, eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  instanceOperations,
  scheduledActionStages,
  scheduledActionTargets,
  sweepRuns,
} from '../../db/schema/index.ts';
import { STAGES_PATH } from '../../src/scheduler/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import {
  publishedFor,
  ringOperationNow,
  ringStageNow,
  sweepNow,
  userUpdates,
} from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import {
  api,
  fleetOf,
  flyFaults,
  IMAGES,
  seedCatalog,
  settleOperations,
  settleScheduler,
} from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stagesOf(t: Awaited<ReturnType<typeof createTestApp>>, actionId: string) {
  return t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);
}

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays).

describe('claims: an operation handler stalled past its lease', async () => {
  // The first update of `gate.machineId` waits until the test releases it: a handler frozen
  // after its claim and its read of the machine, before its Fly call (a GC pause, a stall).
  let gate: { machineId: string; reached: () => void; release: Promise<void> } | null = null;
  const t = await createTestApp({
    serve: true,
    clock: testClock(new Date(), { follow: true }),
    env: { CLAIM_LEASE_SECONDS: '3', STEP_BUDGET_SECONDS: '1', FLY_REQUEST_TIMEOUT_SECONDS: '1' },
    wrapFly: (fly) => ({
      ...fly,
      async updateMachine(app, id, request, options) {
        const g = gate;
        if (g && g.machineId === id) {
          gate = null;
          g.reached();
          await g.release;
        }
        return fly.updateMachine(app, id, request, options);
      },
    }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('cannot update the machine a second time: the stalled holder finds its claim gone', async () => {
    const [instance] = await fleetOf(t, 1);
    if (!instance) throw new Error('no instance');
    const res = await call('POST', `/instances/${instance.id}/version`, {
      imageTag: IMAGES.latest,
    });
    expect(res.status).toBe(202);
    const opId = res.body.operation.id as string;
    let reached = () => {};
    const atGate = new Promise<void>((r) => {
      reached = r;
    });
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    gate = { machineId: instance.machineId, reached, release: released };
    // Handler A claims the step and freezes before its update.
    const stalled = ringOperationNow(t, opId, 'msg_stalled_a');
    await atGate;
    // Its lease (3 s) passes; the sweep returns it and rings the step again.
    t.clock.advance(4000);
    const swept = await sweepNow(t);
    expect(swept.leasesReturned).toBe(1);
    // Handler B claims the step, updates the machine and finishes the operation.
    await settleOperations(t, { stepMs: 500 });
    expect(await userUpdates(t, instance.machineId)).toBe(1);
    // A wakes up: its update carries the version it read, so Fly refuses it (409), and
    // every write it tries is guarded by a claim token that is no longer there.
    release();
    const a = await stalled;
    expect(a.status).toBe(200);
    expect(a.body.run).toBe('claim_lost');
    expect(await userUpdates(t, instance.machineId)).toBe(1);
    const [op] = await t.db.db
      .select()
      .from(instanceOperations)
      .where(eq(instanceOperations.id, opId));
    expect(op).toMatchObject({ status: 'succeeded', claimToken: null });
    const after = (await call('GET', `/instances/${instance.id}?live=false`)).body;
    expect(after).toMatchObject({ status: 'running', imageTag: IMAGES.latest });
  });

  it('an update that times out, lands late and is retried still updates once (current_version)', async () => {
    const [instance] = await fleetOf(t, 1);
    if (!instance) throw new Error('no instance');
    // The first update reaches the machine after 5 s (latency × the simulator's time scale
    // of 0.01); the client gives up after 1 s, so the attempt is ambiguous and lands later.
    await flyFaults(t, { latency: [{ endpoint: 'update_machine', ms: 500_000 }] });
    const res = await call('POST', `/instances/${instance.id}/restart`);
    expect(res.status).toBe(202);
    const opId = res.body.operation.id as string;
    const opNow = async () =>
      (await t.db.db.select().from(instanceOperations).where(eq(instanceOperations.id, opId)))[0];
    await t.deliverDue();
    expect((await opNow())?.lastNote).toMatch(/no answer .* within 1000 ms/);
    // The retry (2 s later) reads the machine before the first update lands and sends its
    // own; when the first one lands, its current_version no longer matches: Fly refuses it
    // (without current_version the machine would be updated twice).
    await flyFaults(t, null);
    for (let round = 0; round < 40; round++) {
      await t.deliverDue();
      const op = await opNow();
      if (op?.status === 'succeeded' || op?.status === 'failed') break;
      await sleep(250);
    }
    await sleep(3500);
    expect(await userUpdates(t, instance.machineId)).toBe(1);
    expect((await opNow())?.status).toBe('succeeded');
  }, 30_000);
});

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
    // Another transaction holds one instance's row: handler A's claim waits inside it.
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
    const a = ringStageNow(t, stage.id, 'msg_stall_a');
    await sleep(300);
    // B waits behind A's stage lock; the sweep finds no lease to return (targets have none:
    // a claim and its operations commit together or not at all).
    const b = ringStageNow(t, stage.id, 'msg_stall_b');
    t.clock.advance(2 * 60_000);
    const swept = sweepNow(t);
    await sleep(300);
    unlock();
    await holder;
    expect((await a).status).toBe(200);
    expect((await b).status).toBe(200);
    expect((await swept).leasesReturned).toBe(0);
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

describe('claims: cancel while a stage is applying (real clock)', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
    flyTimeScale: 0.1,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('creates no operation after the cancel answered, and the counts add up', async () => {
    const fleet = await fleetOf(t, 50);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'cancel mid-stage',
      maxInFlight: 10,
    });
    expect(res.status).toBe(201);
    // Let the first waves start, then cancel while the stage refills.
    await expect
      .poll(
        async () =>
          (await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts.applied +
          (await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts.running,
        { timeout: 10_000, interval: 20 },
      )
      .toBeGreaterThanOrEqual(12);
    const cancelled = await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    const answeredAt = new Date(cancelled.body.cancelledAt);
    const opsAt = async () =>
      t.db.db
        .select({ createdAt: instanceOperations.createdAt })
        .from(instanceOperations)
        .innerJoin(
          scheduledActionTargets,
          eq(scheduledActionTargets.operationId, instanceOperations.id),
        )
        .where(eq(scheduledActionTargets.actionId, res.body.id));
    const atCancel = (await opsAt()).length;
    // The running ones finish; nothing new may start.
    await expect
      .poll(
        async () => (await call('GET', `/scheduled-actions/${res.body.id}`)).body.counts.running,
        { timeout: 20_000, interval: 100 },
      )
      .toBe(0);
    await sleep(500);
    const ops = await opsAt();
    expect(ops).toHaveLength(atCancel);
    expect(ops.every((o) => o.createdAt <= answeredAt)).toBe(true);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    const rows = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    const by = (s: string) => rows.filter((r) => r.status === s).length;
    expect(action.counts).toEqual({
      total: 50,
      pending: by('pending'),
      running: by('running'),
      applied: by('applied'),
      skipped: by('skipped'),
      failed: by('failed'),
      cancelled: by('cancelled'),
    });
    expect(by('applied')).toBe(atCancel);
    expect(by('cancelled')).toBe(50 - atCancel);
    expect(by('cancelled')).toBeGreaterThan(0);
    const applied = new Set(rows.filter((r) => r.status === 'applied').map((r) => r.instanceId));
    for (const f of fleet)
      expect(await userUpdates(t, f.machineId)).toBe(applied.has(f.id) ? 1 : 0);
  }, 40_000);
});

describe('claims: doorbells with a real clock', async () => {
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
    await sleep(2500);
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
    await sleep(2500);
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

  it('a stage at its cap does not ring itself: one doorbell per freed wave, none while full', async () => {
    const fleet = await fleetOf(t, 60);
    await sleep(2500);
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

describe('claims: counters stay O(1) and exact', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('keeps pending and running on the stage row equal to its targets at every step', async () => {
    const fleet = await fleetOf(t, 12);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'counters',
      maxInFlight: 5,
    });
    const check = async () => {
      const [stage] = await stagesOf(t, res.body.id);
      const rows = await t.db.db
        .select({ status: scheduledActionTargets.status, n: sql<number>`count(*)::int` })
        .from(scheduledActionTargets)
        .where(and(eq(scheduledActionTargets.actionId, res.body.id)))
        .groupBy(scheduledActionTargets.status);
      const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
      expect(stage).toMatchObject({
        pending: n('pending'),
        running: n('running'),
        applied: n('applied'),
        skipped: n('skipped'),
        failed: n('failed'),
        cancelled: n('cancelled'),
      });
      expect(n('running')).toBeLessThanOrEqual(5);
    };
    await check();
    for (let round = 0; round < 40; round++) {
      t.clock.advance(1000);
      const delivered = await t.deliverDue();
      await check();
      if (!delivered) break;
    }
    await settleScheduler(t);
    await check();
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body.status).toBe('completed');
  });
});
