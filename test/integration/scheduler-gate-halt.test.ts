// The failure gate of the last stage, and resuming a halted action.
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

describe('a gate that fails in the last stage', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('ends the action (completed with failures) instead of halting with nothing left to hold back', async () => {
    const fleet = await fleetOf(t, 2);
    // One update refused outright (a definite 4xx): one target fails.
    await flyFaults(t, {
      errors: [{ endpoint: 'update_machine', status: 400, phase: 'before', times: 1 }],
    });
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'gate on the only stage',
      rollout: { stages: [100], intervalMinutes: 0, failureThresholdPercent: 0 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await settleScheduler(t);
    await flyFaults(t, null);
    const ended = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(ended).toMatchObject({
      status: 'completed',
      completedWithFailures: true,
      counts: { applied: 1, failed: 1 },
    });
    expect(ended.stages[0].gateResult).toMatch(/^over the gate, the last stage: 1 of 2 failed/);
    // Nothing to resume; the failed target can be retried.
    expect((await call('POST', `/scheduled-actions/${res.body.id}/resume`)).status).toBe(409);
    expect((await call('POST', `/scheduled-actions/${res.body.id}/retry-failed`)).status).toBe(201);
  });
});

describe('resuming a halted action after its instances were scheduled elsewhere', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('resumes (the taken instance left out) instead of failing on the unique index', async () => {
    const fleet = await fleetOf(t, 2);
    await flyFaults(t, {
      errors: [{ endpoint: 'update_machine', status: 400, phase: 'before', times: 1 }],
    });
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'canary fails',
      rollout: { stages: [50, 100], intervalMinutes: 0, failureThresholdPercent: 0 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await settleScheduler(t);
    await flyFaults(t, null);
    const halted = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(halted).toMatchObject({ status: 'halted', counts: { failed: 1, skipped: 1 } });
    // The halted target is `skipped`, so its instance may join another action meanwhile.
    expect(halted.stages[1].status).toBe('halted');
    const targets = (await call('GET', `/scheduled-actions/${res.body.id}/targets?limit=10`)).body;
    const skipped = (targets.items ?? targets).find(
      (x: { status: string }) => x.status === 'skipped',
    );
    expect(skipped, JSON.stringify(targets)).toBeTruthy();
    const other = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [skipped.instanceId] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'another action',
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    const resumed = await call('POST', `/scheduled-actions/${res.body.id}/resume`);
    expect(resumed.status).toBe(200);
    // The taken instance stays out, saying why; nothing else was lost.
    const after = (await call('GET', `/scheduled-actions/${res.body.id}/targets?limit=10`)).body;
    expect(
      after.items.find((x: { instanceId: string }) => x.instanceId === skipped.instanceId),
    ).toMatchObject({ status: 'skipped', skipReason: 'already_scheduled' });
  });
});
