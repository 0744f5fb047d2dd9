// Issue 18: capacity refused everywhere must not cost an instance its machine. Nothing is
// destroyed, the recovery waits for capacity with the reason, and is recovered once a
// region has room again (a capped backoff on the real clock).
import { describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { instanceRow, recoveriesOfInstance, ringReconcile } from '../helpers/recovery.ts';
import { deliverUntil, expectFlyMatchesRows } from '../helpers/recovery-world.ts';

describe('no capacity in any allowed region: the recovery waits for capacity', async () => {
  const t = await createTestApp({
    serve: true,
    clock: testClock(new Date(), { follow: true }),
    env: { RECOVERY_FALLBACK_REGIONS: 'fra,cdg', RECOVERY_WAIT_MAX_SECONDS: '1' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  const waitingTwice = (instanceId: string) =>
    deliverUntil(
      t,
      async () => {
        const [r] = await recoveriesOfInstance(t, instanceId);
        return r?.waitingFor === 'insufficient_capacity' && r.waits >= 2;
      },
      { describe: () => recoveriesOfInstance(t, instanceId) },
    );

  const recovered = (instanceId: string) =>
    deliverUntil(
      t,
      async () => (await recoveriesOfInstance(t, instanceId))[0]?.status === 'succeeded',
      {
        describe: () => recoveriesOfInstance(t, instanceId),
      },
    );

  it('no snapshot: in place and the fork are refused, nothing is destroyed; capacity back, it is moved by a fork', async () => {
    const instance = await provisioned(t, call, { region: 'jnb' });
    await flyFaults(t, {
      out_of_capacity: ['jnb', 'fra', 'cdg'],
      stop_machines: [{ machine_id: instance.machineId }],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await waitingTwice(instance.id);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'pending', step: 'started', newVolumeId: null });
    expect(r?.lastError).toMatch(/no capacity in any allowed region \(jnb, fra, cdg\)/);
    expect(r?.lastError).toContain('no snapshot');
    expect(r?.history.map((h) => h.step)).toEqual(['in_place_start', 'started']);
    expect((await t.deps.fly.getMachine(app, instance.machineId)).state).toBe('stopped');
    expect((await instanceRow(t, instance.id)).status).toBe('recovering');
    expect((await call('GET', `/recoveries/${r?.id}`)).body).toMatchObject({
      waitingFor: 'insufficient_capacity',
      oldMachineDestroyedAt: null,
    });
    await expectFlyMatchesRows(t);

    await flyFaults(t, null);
    await recovered(instance.id);
    const [done] = await recoveriesOfInstance(t, instance.id);
    expect(done).toMatchObject({ volumeSource: 'fork', regionTried: 'jnb', waitingFor: null });
    expect(done?.oldMachineDestroyedAt).not.toBeNull();
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: done?.newMachineId,
      volumeId: done?.newVolumeId,
    });
    await expectFlyMatchesRows(t);
  });

  it('with a snapshot: every restore is refused too and nothing is made; room in the last region, it is restored there', async () => {
    const instance = await provisioned(t, call, { region: 'jnb' });
    await t.deps.fly.createSnapshot(app, instance.volumeId);
    await deliverUntil(
      t,
      async () => (await t.deps.fly.listSnapshots(app, instance.volumeId))[0]?.status === 'created',
    );
    await flyFaults(t, {
      out_of_capacity: ['jnb', 'fra', 'cdg'],
      stop_machines: [{ machine_id: instance.machineId }],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await waitingTwice(instance.id);
    expect((await t.deps.fly.getMachine(app, instance.machineId)).state).toBe('stopped');
    await expectFlyMatchesRows(t);

    await flyFaults(t, null);
    await flyFaults(t, { out_of_capacity: ['jnb', 'fra'] });
    await recovered(instance.id);
    const [done] = await recoveriesOfInstance(t, instance.id);
    expect(done).toMatchObject({
      volumeSource: 'snapshot',
      regionTried: 'cdg',
      retainedVolumeId: instance.volumeId,
    });
    expect(await instanceRow(t, instance.id)).toMatchObject({ status: 'running', region: 'cdg' });
    await flyFaults(t, null);
    await expectFlyMatchesRows(t);
  });
});
