import { eq } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { scheduledActions, scheduledActionTargets } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { deprovisionsOf, settleDeprovisions } from '../helpers/deprovision.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog, settleScheduler } from '../helpers/fleet.ts';
import {
  instanceRow,
  recoveriesOfInstance,
  ringReconcile,
  settleRecoveries,
} from '../helpers/recovery.ts';
import { expectFlyMatchesRows } from '../helpers/recovery-world.ts';

describe('a deprovision meets other jobs on its instance: one winner, no orphan (docs/seams.md)', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  async function expectDestroyed(instanceId: string) {
    const [d] = await deprovisionsOf(t, instanceId);
    expect(d?.step, JSON.stringify(d)).toBe('destroyed');
    expect(await instanceRow(t, instanceId)).toMatchObject({ status: 'destroyed', holdId: null });
    await expectFlyMatchesRows(t);
  }

  it('a pending scheduled target is cancelled (the action with it); the target never runs', async () => {
    const i = await provisioned(t, call);
    const runAt = new Date(t.clock.now().getTime() + 120_000);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [i.id] },
      runAt: runAt.toISOString(),
      reason: 'a restart the deprovision overtakes',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await call('DELETE', `/instances/${i.id}`)).status).toBe(202);
    await settleDeprovisions(t);
    t.clock.set(new Date(runAt.getTime() + 1000));
    await settleScheduler(t);
    const [target] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    expect(target?.status).toBe('cancelled');
    const [action] = await t.db.db
      .select()
      .from(scheduledActions)
      .where(eq(scheduledActions.id, res.body.id));
    expect(action?.status).toBe('cancelled');
    await expectDestroyed(i.id);
  });

  it('an operation in flight wins first: the deprovision waits for it to end, then destroys', async () => {
    const i = await provisioned(t, call);
    const op = await call('POST', `/instances/${i.id}/restart`);
    expect(op.status).toBe(202);
    const d = await call('DELETE', `/instances/${i.id}`);
    expect(d.status).toBe(202);
    expect(d.body.step).toBe('waiting');
    expect((await instanceRow(t, i.id)).status).toBe('restarting');
    await settleDeprovisions(t, { stepMs: 3_000 });
    const detail = await call('GET', `/instances/${i.id}?live=false`);
    expect(detail.body.operation).toMatchObject({ id: op.body.operation.id, status: 'succeeded' });
    await expectDestroyed(i.id);
  });

  it('a recovery in flight ends failed "deprovisioned" after its current step, removing what it made', async () => {
    const i = await provisioned(t, call);
    // The replacement machine does not start yet: the recovery waits in `machine_created`.
    await flyFaults(t, { slow_start_ms: 3_600_000 });
    onTestFinished(() => flyFaults(t, null));
    const begun = await call('POST', `/instances/${i.id}/recover`, { relocate: true });
    expect(begun.status, JSON.stringify(begun.body)).toBe(202);
    await expect
      .poll(async () => {
        await t.deliverDue();
        t.clock.advance(2_000);
        return (await recoveriesOfInstance(t, i.id))[0]?.step;
      })
      .toBe('machine_created');
    expect((await instanceRow(t, i.id)).status).toBe('recovering');
    const d = await call('DELETE', `/instances/${i.id}`);
    expect(d.status).toBe(202);
    expect(d.body.step).toBe('waiting');
    await flyFaults(t, null);
    await settleDeprovisions(t, { stepMs: 3_000 });
    await settleRecoveries(t);
    const [r] = await recoveriesOfInstance(t, i.id);
    expect(r, JSON.stringify(r)).toMatchObject({ status: 'failed', retryAt: null });
    expect(r?.lastError).toContain('deprovisioned');
    await expectDestroyed(i.id);
  });

  it('reconcile does not start a recovery on an instance being deprovisioned', async () => {
    const i = await provisioned(t, call);
    expect((await call('DELETE', `/instances/${i.id}`)).status).toBe(202);
    const run = await ringReconcile(t);
    expect(run.body.recoveriesStarted ?? 0).toBe(0);
    await settleDeprovisions(t);
    expect(await recoveriesOfInstance(t, i.id)).toEqual([]);
    await expectDestroyed(i.id);
  });
});
