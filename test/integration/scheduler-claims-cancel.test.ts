import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceOperations, scheduledActionTargets } from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { userUpdates } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// Claims held by stalled, racing or early handlers, each with a real clock where the
// case needs one (leases, loops, delays). One file per case, so they run side by side.

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
    // Targets still being applied keep it `cancelling` until the last one ends (issue 18 #10).
    expect(cancelled.body.status).toBe(
      cancelled.body.counts.running > 0 ? 'cancelling' : 'cancelled',
    );
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
    // The running ones finish; nothing new may start: once no target is pending or running,
    // no claim can make an operation (a claim takes a pending target with its operation).
    await expect
      .poll(
        async () => {
          const { counts } = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
          return counts.running + counts.pending;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBe(0);
    const ops = await opsAt();
    expect(ops).toHaveLength(atCancel);
    expect(ops.every((o) => o.createdAt <= answeredAt)).toBe(true);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action.status).toBe('cancelled');
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
