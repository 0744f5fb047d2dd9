import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  instanceOperations,
  scheduledActionStages,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { ringOperationNow, sweepNow, userUpdates } from '../helpers/callbacks.ts';
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

async function stagesOf(t: Awaited<ReturnType<typeof createTestApp>>, actionId: string) {
  return t.db.db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(scheduledActionStages.index);
}

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays). One file per case, so they run side by side.

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
    const latencyMs = 500_000;
    await flyFaults(t, { latency: [{ endpoint: 'update_machine', ms: latencyMs }] });
    const res = await call('POST', `/instances/${instance.id}/restart`);
    expect(res.status).toBe(202);
    const opId = res.body.operation.id as string;
    const opNow = async () =>
      (await t.db.db.select().from(instanceOperations).where(eq(instanceOperations.id, opId)))[0];
    const firstSentBy = Date.now();
    await t.deliverDue();
    expect((await opNow())?.lastNote).toMatch(/no answer .* within 1000 ms/);
    // The retry (2 s later) reads the machine before the first update lands and sends its
    // own; when the first one lands, its current_version no longer matches: Fly refuses it
    // (without current_version the machine would be updated twice).
    await flyFaults(t, null);
    await expect
      .poll(
        async () => {
          await t.deliverDue();
          return (await opNow())?.status;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toMatch(/^(succeeded|failed)$/);
    // Then the first update lands: its latency on the simulator's clock (plus a margin for
    // the request's own handling) after it was sent.
    const landsBy = firstSentBy + latencyMs * t.flyTimeScale + 500;
    await new Promise((r) => setTimeout(r, Math.max(0, landsBy - Date.now())));
    expect(await userUpdates(t, instance.machineId)).toBe(1);
    expect((await opNow())?.status).toBe('succeeded');
  }, 30_000);
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
