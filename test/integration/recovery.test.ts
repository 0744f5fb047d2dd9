import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import {
  instanceRow,
  recoveriesOfInstance,
  ringReconcile,
  settleRecoveries,
} from '../helpers/recovery.ts';

describe('unexpected-stop recovery through reconcile', async () => {
  const t = await createTestApp({
    serve: true,
    env: { RECOVERY_FALLBACK_REGIONS: 'fra,cdg', RECOVERY_STEP_RETRIES: '3' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  it('a machine stopped by fault is started in place; when it stops again it is moved by a fork', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    const run = await ringReconcile(t);
    expect(run.body).toMatchObject({ recoveriesStarted: 1, diverged: 1 });
    expect((await instanceRow(t, instance.id)).status).toBe('recovering');
    await settleRecoveries(t);
    const [first] = await recoveriesOfInstance(t, instance.id);
    expect(first).toMatchObject({ status: 'succeeded', inPlace: true, cause: 'machine_stopped' });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });

    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settleRecoveries(t);
    const second = (await recoveriesOfInstance(t, instance.id)).find((r) => r.id !== first?.id);
    expect(second, JSON.stringify(second)).toMatchObject({
      status: 'succeeded',
      inPlace: false,
      volumeSource: 'fork',
      regionTried: 'ams',
    });
    const after = await instanceRow(t, instance.id);
    expect(after).toMatchObject({
      status: 'running',
      machineId: second?.newMachineId,
      volumeId: second?.newVolumeId,
    });
    // No snapshots: the old volume was deleted at once; the old machine is gone.
    expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toMatch(/destroy/);
    expect(second?.retainedVolumeId).toBeNull();
    expect(second?.oldVolumeDeletedAt).not.toBeNull();
  });
});
