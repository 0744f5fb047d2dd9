import { and, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  instanceEvents,
  instances,
  scheduledActionStages,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { CONTROLLER_TOKEN_ENV } from '../../src/adapters/controller/token.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringStageNow } from '../helpers/callbacks.ts';
import { caller } from '../helpers/cli-runs.ts';
import { bearer, makeApiKey, ownerHeader } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog, settleScheduler } from '../helpers/fleet.ts';
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
  const platform = (await makeApiKey(t, 'platform')).key;
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
    // Built like a provisioned machine: the controller token, the instance's metadata, its image.
    const replacement = await t.deps.fly.getMachine(app, second?.newMachineId ?? '');
    expect(replacement.config?.env?.[CONTROLLER_TOKEN_ENV]).toMatch(/^[0-9a-f]{64}$/);
    expect(replacement.config).toMatchObject({
      image: instance.imageTag,
      metadata: { fleetwarden_instance: instance.id },
      mounts: [{ volume: second?.newVolumeId, path: '/data' }],
    });
    // No snapshots: the old volume was deleted at once; the old machine is gone.
    expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toMatch(/destroy/);
    expect(second?.retainedVolumeId).toBeNull();
    expect(second?.oldVolumeDeletedAt).not.toBeNull();
  });

  const snapshotOf = async (volumeId: string) => {
    await t.deps.fly.createSnapshot(app, volumeId);
    await new Promise((r) => setTimeout(r, 30));
    expect((await t.deps.fly.listSnapshots(app, volumeId))[0]?.status).toBe('created');
  };

  it('a region unreachable: restored from the snapshot in the next region; the old volume is retained, then deleted when due', async () => {
    const instance = await provisioned(t, call, { region: 'sin' });
    await snapshotOf(instance.volumeId);
    await flyFaults(t, { unreachable: { regions: ['sin'] } });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    const during = await call('GET', `/instances/${instance.id}?live=false`);
    expect(during.body).toMatchObject({
      status: 'recovering',
      recovery: { cause: 'host_unreachable', step: 'started', hostStatus: 'unreachable' },
    });
    // The product's apps see it too, with its step.
    const platformStatus = async () =>
      (
        await t.app.request(t.url(`/api/platform/instances/${instance.id}/status`), {
          headers: {
            ...bearer(platform),
            ...(await ownerHeader(t, `/instances/${instance.id}`)),
          },
        })
      ).json();
    expect(await platformStatus()).toMatchObject({
      status: 'recovering',
      recovery: { step: 'started' },
    });
    await settleRecoveries(t);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({
      status: 'succeeded',
      volumeSource: 'snapshot',
      regionTried: 'fra',
      retainedVolumeId: instance.volumeId,
    });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      region: 'fra',
      volumeId: r?.newVolumeId,
      machineId: r?.newMachineId,
    });
    const days = (r?.retainUntil?.getTime() ?? 0) - t.clock.now().getTime();
    expect(Math.round(days / 86_400_000)).toBe(7);
    // Before the deadline reconcile leaves it; after it, deletes it.
    expect((await ringReconcile(t)).body.volumesDeleted).toBe(0);
    t.clock.advance(8 * 86_400_000);
    expect((await ringReconcile(t)).body.volumesDeleted).toBe(1);
    expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toMatch(/destroy/);
    expect(await platformStatus()).toMatchObject({ status: 'running', recovery: null });
    const timeline = await call('GET', `/recoveries/${r?.id}`);
    expect(timeline.body.steps.map((s: { step: string }) => s.step)).toEqual([
      'started',
      'volume_created',
      'started',
      'volume_created',
      'machine_created',
      'machine_started',
      'cut_over',
      'succeeded',
    ]);
    await flyFaults(t, null);
  });

  it('no snapshot and the host unreachable: the recovery waits for the host, keeping the machine; the host back, it starts in place', async () => {
    const instance = await provisioned(t, call, { region: 'syd' });
    await flyFaults(t, { unreachable: { machine_ids: [instance.machineId] } });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await t.deliverDue();
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'pending', step: 'started', waitingFor: 'host_unreachable' });
    expect(r?.lastError).toContain('no usable snapshot');
    expect((await t.deps.fly.getMachine(app, instance.machineId)).state).toBe('stopped');
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'recovering',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });
    await flyFaults(t, null);
    await settleRecoveries(t, { stepMs: 60_000 });
    expect((await call('GET', `/recoveries/${r?.id}`)).body).toMatchObject({
      status: 'succeeded',
      inPlace: true,
      waitingFor: null,
    });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });
  });

  it('no capacity in the old region: in place and the fork are refused, the snapshot is restored in the next region', async () => {
    const instance = await provisioned(t, call, { region: 'jnb' });
    await snapshotOf(instance.volumeId);
    await flyFaults(t, {
      out_of_capacity: ['jnb'],
      stop_machines: [{ machine_id: instance.machineId }],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settleRecoveries(t);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({
      status: 'succeeded',
      inPlace: false,
      regionTried: 'fra',
      volumeSource: 'snapshot',
      retainedVolumeId: instance.volumeId,
    });
    expect((await instanceRow(t, instance.id)).region).toBe('fra');
    await flyFaults(t, null);

    // Early delete: a machine of someone else holds the volume, so it is refused.
    const foreign = await t.deps.fly.createMachine(app, {
      region: 'jnb',
      config: {
        image: 'registry.fly.io/agent:1.1.0',
        mounts: [{ volume: instance.volumeId, path: '/data' }],
        metadata: { fleetwarden_instance: crypto.randomUUID() },
      },
    });
    const refused = await call('DELETE', `/instances/${instance.id}/retained-volume`);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toContain('ownership-mismatch');
    expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toBe('created');
    await t.deps.fly.deleteMachine(app, foreign.id, { force: true });
    await new Promise((res) => setTimeout(res, 40));
    const deleted = await call('DELETE', `/instances/${instance.id}/retained-volume`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((await t.deps.fly.getVolume(app, instance.volumeId)).state).toMatch(/destroy/);
    expect((await call('DELETE', `/instances/${instance.id}/retained-volume`)).status).toBe(404);
  });

  it('busy rules: a recovering instance refuses actions; an admin recovery of a busy one is 409', async () => {
    const instance = await provisioned(t, call, { region: 'gru' });
    await flyFaults(t, { slow_start_ms: 600_000 });
    const begun = await call('POST', `/instances/${instance.id}/recover`);
    expect(begun.status, JSON.stringify(begun.body)).toBe(202);
    expect(begun.body).toMatchObject({
      trigger: 'admin',
      cause: 'admin_request',
      step: 'in_place_start',
    });
    expect((await call('POST', `/instances/${instance.id}/restart`)).status).toBe(409);
    expect((await call('POST', `/instances/${instance.id}/recover`, {})).status).toBe(409);
    expect((await call('POST', `/instances/${instance.id}/recover`, { bogus: 1 })).status).toBe(
      400,
    );
    expect((await call('POST', `/instances/${crypto.randomUUID()}/recover`)).status).toBe(404);
    await flyFaults(t, null);
    await settleRecoveries(t);
    expect((await call('GET', `/recoveries/${begun.body.id}`)).body).toMatchObject({
      status: 'succeeded',
      inPlace: true,
    });
    const listed = await call('GET', `/recoveries?instanceId=${instance.id}&status=succeeded`);
    expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([begun.body.id]);
    expect((await call('GET', '/recoveries?status=bogus')).status).toBe(400);
  });

  it('divergences that are not acted on are recorded once as events: another image, a stopped instance whose machine runs', async () => {
    const a = await provisioned(t, call, { region: 'mad' });
    const b = await provisioned(t, call, { region: 'mad' });
    const machine = await t.deps.fly.getMachine(app, a.machineId);
    await t.deps.fly.updateMachine(app, a.machineId, {
      config: { ...(machine.config ?? { image: '' }), image: 'registry.fly.io/agent:9.9.9' },
    });
    await new Promise((r) => setTimeout(r, 60));
    await t.db.db.update(instances).set({ status: 'stopped' }).where(eq(instances.id, b.id));
    const first = await ringReconcile(t);
    expect(first.body).toMatchObject({ recoveriesStarted: 0, recorded: 2 });
    expect((await ringReconcile(t)).body.recorded).toBe(2);
    const events = await t.db.db
      .select()
      .from(instanceEvents)
      .where(
        and(
          inArray(instanceEvents.instanceId, [a.id, b.id]),
          eq(instanceEvents.type, 'reconcile_divergence'),
        ),
      );
    expect(events.map((e) => e.payload.kind).sort()).toEqual([
      'image_mismatch',
      'running_while_stopped',
    ]);
    expect((await instanceRow(t, a.id)).status).toBe('running');
    expect(await recoveriesOfInstance(t, a.id)).toEqual([]);
  });

  it('a fork that stays hydrating is mounted while it hydrates; a replacement slow to start is waited for', async () => {
    const instance = await provisioned(t, call, { region: 'lhr' });
    await flyFaults(t, { slow_hydration_ms: 600_000, slow_start_ms: 20_000 });
    const begun = await call('POST', `/instances/${instance.id}/recover`, { relocate: true });
    expect(begun.status).toBe(202);
    await settleRecoveries(t, { realMs: 40 });
    const r = (await call('GET', `/recoveries/${begun.body.id}`)).body;
    expect(r).toMatchObject({ status: 'succeeded', volumeSource: 'fork' });
    expect((await t.deps.fly.getVolume(app, r.newVolumeId)).state).toBe('hydrating');
    await flyFaults(t, null);
  });
});

describe('a scheduled target meets a recovery', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('backs off while the instance is recovering, then is applied', async () => {
    const instance = await provisioned(t, call);
    // Its health probe fails for now, so the in-place recovery stays active (retrying the
    // probe) whichever doorbell the emulator delivers first.
    await flyFaults(t, { unhealthy_machines: [instance.machineId] });
    expect((await call('POST', `/instances/${instance.id}/recover`)).status).toBe(202);
    const action = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [instance.id] },
      runAt: 'now',
      reason: 'weekly restart',
    });
    expect(action.status, JSON.stringify(action.body)).toBe(201);
    // The stage's doorbell rings before the recovery's first step: the instance is
    // `recovering` (set when the recovery began). Delivering both at once raced them: a
    // recovery of a machine that is already started ends at once, in place, and a stage
    // delivered after it found the instance running again.
    const [stage] = await t.db.db
      .select()
      .from(scheduledActionStages)
      .where(eq(scheduledActionStages.actionId, action.body.id));
    expect((await ringStageNow(t, stage?.id ?? '')).status).toBe(200);
    const [target] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, action.body.id));
    expect(target).toMatchObject({ status: 'pending' });
    expect(target?.busySince).not.toBeNull();
    expect(target?.operationId).toBeNull();
    await flyFaults(t, null);
    await settleRecoveries(t);
    await settleScheduler(t);
    expect((await call('GET', `/scheduled-actions/${action.body.id}`)).body.counts).toMatchObject({
      applied: 1,
    });
  });
});

describe('a recovery meets a CLI run', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);

  it('a live CLI run whose machine stopped ends at the reconcile, which begins the recovery; a recovering instance refuses a CLI run', async () => {
    const held = await provisioned(t, call);
    const run = await platform('POST', `/instances/${held.id}/cli-runs`, {
      prompt: '#sim duration=600s\nrepair the agent',
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    await flyFaults(t, { stop_machines: [{ machine_id: held.machineId }] });
    // The run's hold does not outlive its machine (docs/seams.md).
    expect((await ringReconcile(t)).body).toMatchObject({ diverged: 1, recoveriesStarted: 1 });
    expect((await platform('GET', `/cli-runs/${run.body.id}`)).body).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('stopped'),
    });
    expect((await call('POST', `/instances/${held.id}/recover`)).status).toBe(409);

    const other = await provisioned(t, call);
    await flyFaults(t, { slow_start_ms: 600_000 });
    expect((await call('POST', `/instances/${other.id}/recover`)).status).toBe(202);
    const refused = await platform('POST', `/instances/${other.id}/cli-runs`, { prompt: 'fix it' });
    expect(refused.status).toBe(409);
    await flyFaults(t, null);
  });
});

describe('recovery switched off', async () => {
  const t = await createTestApp({ serve: true, env: { RECOVERY_ENABLED: 'false' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('reconcile records a down machine once and begins nothing', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    expect((await ringReconcile(t)).body).toMatchObject({ recoveriesStarted: 0, recorded: 1 });
    expect((await ringReconcile(t)).body.recorded).toBe(1);
    expect(await recoveriesOfInstance(t, instance.id)).toEqual([]);
    const events = await t.db.db
      .select()
      .from(instanceEvents)
      .where(
        and(
          eq(instanceEvents.instanceId, instance.id),
          eq(instanceEvents.type, 'reconcile_divergence'),
        ),
      );
    expect(events.map((e) => e.payload.kind)).toEqual(['machine_down']);
    expect((await instanceRow(t, instance.id)).status).toBe('running');
  });
});
