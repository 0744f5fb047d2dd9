import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instances, versionPins } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, IMAGES, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

type Target = {
  id: string;
  instanceId: string;
  status: string;
  skipReason: string | null;
  error: string | null;
  stageIndex: number;
};

describe('rollouts: stages, the gate, claim-time checks and Fly faults', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const targetsOf = async (actionId: string): Promise<Target[]> =>
    (await call('GET', `/scheduled-actions/${actionId}/targets?limit=200`)).body.items;
  const reset = () => flyFaults(t, null);

  it('halts at the gate: later stages halted, their targets skipped; resume finishes them', async () => {
    const fleet = await fleetOf(t, 10);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'canary then everyone',
      rollout: { stages: [20, 100], intervalMinutes: 0, failureThresholdPercent: 0 },
    });
    const first = (await targetsOf(res.body.id)).filter((x) => x.stageIndex === 0);
    expect(first).toHaveLength(2);
    // The canary stage's first instance fails its health probes: 1 of 2 failed > 0%.
    const canary = fleet.find((f) => f.id === first[0]?.instanceId);
    await flyFaults(t, { unhealthy_machines: [canary?.machineId] });
    await settleScheduler(t);
    const halted = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(halted.status).toBe('halted');
    expect(halted.stages[0]).toMatchObject({
      status: 'completed',
      counts: { applied: 1, failed: 1 },
    });
    expect(halted.stages[0].gateResult).toMatch(/^halted: 1 of 2 failed \(50\.0% > 0%\)/);
    expect(halted.stages[1]).toMatchObject({ status: 'halted', counts: { skipped: 8 } });
    expect((await targetsOf(res.body.id)).filter((x) => x.skipReason === 'halted')).toHaveLength(8);
    expect(halted.counts).toMatchObject({ total: 10, applied: 1, failed: 1, skipped: 8 });
    await reset();
    expect((await call('POST', `/scheduled-actions/${res.body.id}/resume`)).body.status).toBe(
      'running',
    );
    await settleScheduler(t);
    const done = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(done).toMatchObject({
      status: 'completed',
      counts: { total: 10, applied: 9, failed: 1, skipped: 0 },
    });
    expect((await call('POST', `/scheduled-actions/${res.body.id}/resume`)).body).toMatchObject({
      status: 409,
      type: '/problems/not-resumable',
    });
  });

  it('starts a stage only after the one before it has finished, even when both are due', async () => {
    const fleet = await fleetOf(t, 4);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'two stages at once',
      rollout: { stages: [50, 100], intervalMinutes: 0 },
    });
    // Slow Fly: updates fail for a while, so the first stage cannot finish in one delivery round.
    await flyFaults(t, { errors: [{ endpoint: 'update_machine', status: 503, times: 4 }] });
    // Past the stage's due time, so its doorbell (and the operations it rings) deliver now.
    t.clock.advance(1000);
    await t.deliverDue();
    const mid = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(mid.stages[0].status).toBe('running');
    expect(mid.stages[1].status).toBe('pending');
    await reset();
    await settleScheduler(t);
    const done = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(done.status).toBe('completed');
    expect(Date.parse(done.stages[1].startedAt)).toBeGreaterThanOrEqual(
      Date.parse(done.stages[0].completedAt),
    );
  });

  it('re-checks each target at claim time: destroyed, pinned, already on target', async () => {
    const [a, b, c, d] = await fleetOf(t, 4);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      instances: { ids: [a?.id, b?.id, c?.id, d?.id] },
      runAt: new Date(t.clock.now().getTime() + 120_000).toISOString(),
      reason: 'claim checks',
    });
    await t.db.db
      .update(instances)
      .set({ status: 'destroyed' })
      .where(eq(instances.id, a?.id ?? ''));
    await t.db.db.insert(versionPins).values({ instanceId: b?.id ?? '', imageTag: IMAGES.current });
    await t.db.db
      .update(instances)
      .set({ imageTag: IMAGES.latest })
      .where(eq(instances.id, c?.id ?? ''));
    t.clock.advance(120_000);
    await settleScheduler(t);
    const byInstance = new Map((await targetsOf(res.body.id)).map((x) => [x.instanceId, x]));
    expect(byInstance.get(a?.id ?? '')).toMatchObject({
      status: 'skipped',
      skipReason: 'destroyed',
    });
    expect(byInstance.get(b?.id ?? '')).toMatchObject({ status: 'skipped', skipReason: 'pinned' });
    expect(byInstance.get(c?.id ?? '')).toMatchObject({
      status: 'skipped',
      skipReason: 'already_on_target',
    });
    expect(byInstance.get(d?.id ?? '')).toMatchObject({ status: 'applied' });
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body).toMatchObject({
      status: 'completed',
      counts: { applied: 1, skipped: 3 },
    });
  });

  it('waits for a busy instance, then applies it; fails it after the busy window', async () => {
    const [a, b] = await fleetOf(t, 2);
    // Instance a is stopping (an immediate action) when its target is claimed.
    expect((await call('POST', `/instances/${a?.id}/restart`)).status).toBe(202);
    await t.db.db
      .update(instances)
      .set({ status: 'recovering' })
      .where(eq(instances.id, b?.id ?? ''));
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [a?.id, b?.id] },
      runAt: 'now',
      reason: 'busy',
    });
    await settleScheduler(t, { stepMs: 60_000 });
    const byInstance = new Map((await targetsOf(res.body.id)).map((x) => [x.instanceId, x]));
    expect(byInstance.get(a?.id ?? '')).toMatchObject({ status: 'applied' });
    expect(byInstance.get(b?.id ?? '')?.status).toBe('failed');
    expect(byInstance.get(b?.id ?? '')?.error).toMatch(/^instance_busy/);
    await t.db.db
      .update(instances)
      .set({ status: 'running' })
      .where(eq(instances.id, b?.id ?? ''));
  });

  it('ends targets right under Fly faults: 5xx retried, 408 waited out, capacity and silent revert failed', async () => {
    const ok5xx = await fleetOf(t, 1);
    const ok408 = await fleetOf(t, 1);
    const full = await fleetOf(t, 1, { region: 'gru' });
    const reverted = await fleetOf(t, 1, { imageTag: IMAGES.old });
    await flyFaults(t, {
      errors: [
        { endpoint: 'update_machine', status: 502, times: 2 },
        { endpoint: 'wait', status: 408, times: 3 },
      ],
      out_of_capacity: ['gru'],
      image_pull_failures: [IMAGES.latest],
    });
    const ids = [ok5xx[0], ok408[0], full[0]].map((f) => f?.id);
    // Everyone moves to 1.1.0 except `reverted`, which moves to the image that will not pull.
    const a = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids },
      runAt: 'now',
      reason: 'faults',
    });
    const b = await call('POST', '/scheduled-actions', {
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      instances: { ids: [reverted[0]?.id] },
      runAt: 'now',
      reason: 'revert',
    });
    await settleScheduler(t);
    const ta = new Map((await targetsOf(a.body.id)).map((x) => [x.instanceId, x]));
    expect(ta.get(ok5xx[0]?.id ?? '')?.status).toBe('applied');
    expect(ta.get(ok408[0]?.id ?? '')?.status).toBe('applied');
    expect(ta.get(full[0]?.id ?? '')).toMatchObject({ status: 'failed' });
    expect(ta.get(full[0]?.id ?? '')?.error).toMatch(/capacity/i);
    const tb = await targetsOf(b.body.id);
    expect(tb[0]).toMatchObject({ status: 'failed' });
    expect(tb[0]?.error).toMatch(/reverted/);
    expect((await call('GET', `/scheduled-actions/${b.body.id}`)).body.status).toBe('failed');
    await reset();
  });
});
