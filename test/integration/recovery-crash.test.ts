import { describe, expect, it, onTestFinished } from 'vitest';
import { DELETED_VOLUME_STATES } from '../../src/adapters/fly/create-volume.ts';
import { INSTANCE_METADATA_KEY } from '../../src/fleet/machine-config.ts';
import { createTestApp } from '../helpers/app.ts';
import { sweepNow } from '../helpers/callbacks.ts';
import { crashSwitch } from '../helpers/crash.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import {
  instanceRow,
  recoveriesOfInstance,
  ringReconcile,
  settleRecoveries,
} from '../helpers/recovery.ts';

describe('recovery crash safety: a crash after every step between its Fly call and its outcome write', async () => {
  // Armed by a test: the next call of this Fly method is made, then the process "dies"
  // before the step can write what happened (a non-Fly error out of the handler).
  const crash = crashSwitch();
  const t = await createTestApp({
    serve: true,
    wrapFly: crash.wrap,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  /** After every delivery round: the instance names a volume that exists. */
  const volumeAlwaysThere = (instanceId: string) => async () => {
    const row = await instanceRow(t, instanceId);
    const volume = await t.deps.fly.getVolume(app, row.volumeId ?? '');
    expect(DELETED_VOLUME_STATES.has(volume.state), `${volume.id} is ${volume.state}`).toBe(false);
    await sweepNow(t);
  };

  const settle = (instanceId: string) =>
    settleRecoveries(t, { stepMs: 20_000, maxRounds: 60, each: volumeAlwaysThere(instanceId) });

  /** Nothing leaked: one live machine of the instance, one live volume of the recovery. */
  async function expectNoLeaks(instanceId: string, recoveryId: string) {
    const row = await instanceRow(t, instanceId);
    const machines = (
      await t.deps.fly.listMachines(app, { metadata: { [INSTANCE_METADATA_KEY]: instanceId } })
    ).filter((m) => m.state !== 'destroying' && m.state !== 'destroyed');
    expect(machines.map((m) => m.id)).toEqual([row.machineId]);
    const suffix = recoveryId.replace(/-/g, '').slice(0, 8);
    const volumes = (await t.deps.fly.listVolumes(app)).filter((v) => v.name.endsWith(suffix));
    expect(volumes.map((v) => v.id)).toEqual([row.volumeId]);
  }

  for (const method of [
    'stopMachine',
    'deleteMachine',
    'createVolume',
    'createMachine',
    'startMachine',
    'waitMachine',
    'listSnapshots',
    'deleteVolume',
  ] as const)
    it(`relocation survives a crash after ${method}`, async () => {
      const instance = await provisioned(t, call);
      const before = crash.crashes;
      crash.arm(method);
      onTestFinished(() => {
        crash.arm(null);
      });
      const begun = await call('POST', `/instances/${instance.id}/recover`, { relocate: true });
      expect(begun.status).toBe(202);
      await settle(instance.id);
      expect(crash.crashes).toBe(before + 1);
      const [r] = await recoveriesOfInstance(t, instance.id);
      expect(r, JSON.stringify(r)).toMatchObject({ status: 'succeeded', volumeSource: 'fork' });
      expect(await instanceRow(t, instance.id)).toMatchObject({
        status: 'running',
        machineId: r?.newMachineId,
        volumeId: r?.newVolumeId,
      });
      await expectNoLeaks(instance.id, r?.id ?? '');
      // The old volume had no snapshots: deleted, once.
      expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toMatch(/destroy/);
    });

  it('an in-place start survives a crash after startMachine', async () => {
    const instance = await provisioned(t, call);
    const before = crash.crashes;
    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    crash.arm('startMachine');
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settle(instance.id);
    expect(crash.crashes).toBe(before + 1);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'succeeded', inPlace: true });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });
  });

  it('a failure after the replacement was made removes it, surviving a crash during the clean-up', async () => {
    const instance = await provisioned(t, call);
    // The replacement never starts: the step fails at its deadline and cleans up.
    await flyFaults(t, { slow_start_ms: 3_600_000 });
    const begun = await call('POST', `/instances/${instance.id}/recover`, { relocate: true });
    expect(begun.status).toBe(202);
    const before = crash.crashes;
    crash.arm('deleteVolume');
    await settleRecoveries(t, {
      stepMs: 60_000,
      maxRounds: 80,
      each: volumeAlwaysThere(instance.id),
    });
    await flyFaults(t, null);
    expect(crash.crashes).toBe(before + 1);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'failed', failedStep: 'machine_created' });
    expect(r?.lastError).toContain('did not reach started');
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'stopped',
      volumeId: instance.volumeId,
    });
    const suffix = (r?.id ?? '').replace(/-/g, '').slice(0, 8);
    expect((await t.deps.fly.listVolumes(app)).filter((v) => v.name.endsWith(suffix))).toEqual([]);
    const tagged = (
      await t.deps.fly.listMachines(app, { metadata: { fleetwarden_request_id: r?.id ?? '' } })
    ).filter((m) => m.state !== 'destroyed' && m.state !== 'destroying');
    expect(tagged).toEqual([]);
  });
});

describe('recovery concurrency', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('10 concurrent reconcile callbacks begin one recovery per instance', async () => {
    const fleet = [];
    for (let i = 0; i < 5; i++) fleet.push(await provisioned(t, call));
    await flyFaults(t, { stop_machines: fleet.map((f) => ({ machine_id: f.machineId })) });
    const runs = await Promise.all(Array.from({ length: 10 }, () => ringReconcile(t)));
    for (const run of runs) expect(run.status).toBe(200);
    const started = runs.reduce((n, run) => n + run.body.recoveriesStarted, 0);
    expect(started).toBe(5);
    for (const f of fleet) expect(await recoveriesOfInstance(t, f.id)).toHaveLength(1);
    await settleRecoveries(t);
    for (const f of fleet) expect((await instanceRow(t, f.id)).status).toBe('running');
  });

  it('a reconcile doorbell delivered twice is one run', async () => {
    const a = await ringReconcile(t, 'msg_same');
    const b = await ringReconcile(t, 'msg_same');
    expect(b.body.runId).toBe(a.body.runId);
  });
});
