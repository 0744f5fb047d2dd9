// Review experiments (branch `review`): the failure gate of the last stage.
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

describe('review: a gate that fails in the last stage', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it.fails('ends the action once resumed (observed: resumed to running with nothing left, forever)', async () => {
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
    const halted = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    // Every target has an outcome, yet the action is halted with no later stage to halt.
    expect(halted).toMatchObject({ status: 'halted', counts: { applied: 1, failed: 1 } });
    const resumed = await call('POST', `/scheduled-actions/${res.body.id}/resume`);
    expect(resumed.status).toBe(200);
    await settleScheduler(t);
    t.clock.advance(10 * 60_000);
    await t.deliverDue();
    const after = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    console.log(JSON.stringify({ resumed: resumed.body.status, after: after.status }));
    expect(['completed', 'failed']).toContain(after.status);
  });
});

describe('review: resuming a halted action after its instances were scheduled elsewhere', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it.fails('resumes (the taken instance left out) instead of failing on the unique index', async () => {
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
    const stage1 = halted.stages[1];
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
    const cause = t.logs
      .filter(
        (l) => /error/i.test(l) && /resume|scheduled_action_targets|unique|duplicate/i.test(l),
      )
      .map((l) => l.match(/"cause":.{0,300}/)?.[0] ?? l.slice(-300));
    console.log(JSON.stringify({ stage1, resumed: resumed.status, cause }));
    expect(resumed.status).toBe(200);
  });
});
