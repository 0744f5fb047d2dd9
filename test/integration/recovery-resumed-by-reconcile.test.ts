// Issue 18: a failed recovery is resumed by reconcile on a schedule (a capped backoff on the
// real clock), not only by hand; an instance someone has acted on since is left to them.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { reconcileRuns } from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog, settleOperations } from '../helpers/fleet.ts';
import {
  instanceRow,
  recoveriesOfInstance,
  ringReconcile,
  settleRecoveries,
} from '../helpers/recovery.ts';
import { deliverUntil, expectFlyMatchesRows } from '../helpers/recovery-world.ts';

describe('failed recoveries are resumed by reconcile', async () => {
  const t = await createTestApp({
    serve: true,
    clock: testClock(new Date(), { follow: true }),
    env: { RECOVERY_RETRY_MAX_SECONDS: '1', RECOVERY_IN_PLACE_ATTEMPTS: '0' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  /** A recovery that fails for good: Fly refuses the replacement machine once (a 400). */
  async function failedRecovery() {
    const instance = await provisioned(t, call);
    await flyFaults(t, {
      errors: [
        { endpoint: 'create_machine', status: 400, times: 1, error: 'invalid_argument: bad guest' },
      ],
      stop_machines: [{ machine_id: instance.machineId }],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settleRecoveries(t);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'failed', failedStep: 'volume_created', autoRetries: 0 });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'stopped',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });
    // Nothing was destroyed: the old machine was not touched before its replacement existed.
    expect((await t.deps.fly.getMachine(t.deps.config.fly.appName, instance.machineId)).state).toBe(
      'stopped',
    );
    return { instance, recovery: r as NonNullable<typeof r> };
  }

  it('reconcile resumes it once its retry time has come, without a click', async () => {
    const { instance, recovery } = await failedRecovery();
    const shown = (await call('GET', `/recoveries/${recovery.id}`)).body;
    expect(shown.retryAt).not.toBeNull();
    // The first resume comes after at most RECOVERY_RETRY_MAX_SECONDS (1 s here).
    const delay = Date.parse(shown.retryAt) - Date.parse(shown.endedAt);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(1000);

    let run: { runId: string; recoveriesRetried: number } | null = null;
    await deliverUntil(
      t,
      async () => (await recoveriesOfInstance(t, instance.id))[0]?.status === 'succeeded',
      {
        each: async () => {
          const rung = (await ringReconcile(t)).body;
          if (rung.recoveriesRetried) run = rung;
        },
      },
    );
    expect(run).toMatchObject({ recoveriesRetried: 1 });
    const [saved] = await t.db.db
      .select()
      .from(reconcileRuns)
      .where(eq(reconcileRuns.id, (run as unknown as { runId: string }).runId));
    expect(saved?.recoveriesRetried).toBe(1);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'succeeded', autoRetries: 1, retryAt: null });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: r?.newMachineId,
      volumeId: r?.newVolumeId,
    });
    await expectFlyMatchesRows(t);
  });

  it('an instance an admin started after the failure is not resumed; a retry by hand still is', async () => {
    const { instance, recovery } = await failedRecovery();
    expect((await call('POST', `/instances/${instance.id}/start`)).status).toBe(202);
    await settleOperations(t);
    expect((await instanceRow(t, instance.id)).status).toBe('running');
    await deliverUntil(
      t,
      async () => (await recoveriesOfInstance(t, instance.id))[0]?.retryAt === null,
      { each: async () => void (await ringReconcile(t)) },
    );
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'failed', autoRetries: 0 });

    // By hand: audited, 202, a second retry while it runs is 409.
    const retried = await call('POST', `/recoveries/${recovery.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    expect(retried.body).toMatchObject({ status: 'pending', step: 'started', retryAt: null });
    expect((await call('POST', `/recoveries/${recovery.id}/retry`)).status).toBe(409);
    await settleRecoveries(t);
    expect((await call('GET', `/recoveries/${recovery.id}`)).body).toMatchObject({
      status: 'succeeded',
      volumeSource: 'fork',
    });
    expect((await instanceRow(t, instance.id)).status).toBe('running');
    await flyFaults(t, null);
    await expectFlyMatchesRows(t);
  });
});
