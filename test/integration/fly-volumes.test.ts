import { describe, expect, it } from 'vitest';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('fly simulator: volumes and snapshots', async () => {
  // timeScale 0.01: fork hydration 30 ms, restore 20 ms, snapshot 10 ms of simulated time.
  const h = await createFlyHarness();
  const { client, clock } = h;
  const app = await h.makeApp();
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: FlyApiError) => e,
    );
  const mount = (volume: string) => agentConfig(undefined, { mounts: [{ volume, path: '/data' }] });

  it('creates a volume with the documented defaults, bound to a host', async () => {
    const v = await client.createVolume(app, { name: 'data', region: 'ams' });
    expect(v).toMatchObject({
      name: 'data',
      state: 'created',
      size_gb: 3,
      region: 'ams',
      encrypted: true,
      attached_machine_id: null,
      snapshot_retention: 5,
      auto_backup_enabled: true,
      host_status: 'ok',
    });
    expect(v.id).toMatch(/^vol_[a-z0-9]{16}$/);
    expect(v.zone).toMatch(/^[0-9a-f]{4}$/);
    expect(await client.getVolume(app, v.id)).toEqual(v);
  });

  it('places a mounting machine on the volume host; one machine per volume; destroy detaches', async () => {
    const v = await client.createVolume(app, { name: 'data', region: 'fra', size_gb: 10 });
    const m = await client.createMachine(app, { config: mount(v.id) });
    expect(m.region).toBe('fra');
    expect((await client.getVolume(app, v.id)).attached_machine_id).toBe(m.id);
    const second = await fail(client.createMachine(app, { config: mount(v.id) }));
    expect(second).toMatchObject({ status: 412, code: 'failed_precondition' });
    expect(second?.message).toBe(
      `failed_precondition: volume ${v.id} is in use by machine ${m.id}`,
    );
    const wrongRegion = await fail(
      client.createMachine(app, { config: mount(v.id), region: 'syd' }),
    );
    expect(wrongRegion).toMatchObject({ status: 400 });

    const busy = await fail(client.deleteVolume(app, v.id));
    expect(busy).toMatchObject({ status: 412, code: 'failed_precondition' });
    await client.deleteMachine(app, m.id, { force: true });
    // Once the destroy has had its time, the volume is free without reading the machine.
    clock.advance(20);
    expect((await client.getVolume(app, v.id)).attached_machine_id).toBeNull();
    expect((await client.deleteVolume(app, v.id)).state).toBe('scheduling_destroy');
  });

  it('forks: creating → enabling_remote_export → hydrating (mountable) → created', async () => {
    const source = await client.createVolume(app, { name: 'data', region: 'iad', size_gb: 5 });
    const fork = await client.createVolume(app, {
      name: 'data',
      source_volume_id: source.id,
      require_unique_zone: true,
      compute: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
    });
    expect(fork).toMatchObject({ state: 'creating', region: 'iad', size_gb: 5 });
    expect(fork.zone).not.toBe(source.zone);
    // Of the 30 ms: 10% creating, 10% enabling remote export, then hydrating.
    const seen = [fork.state];
    for (const ms of [4, 4, 21]) {
      clock.advance(ms);
      seen.push((await client.getVolume(app, fork.id)).state);
    }
    expect(seen).toEqual(['creating', 'enabling_remote_export', 'hydrating', 'hydrating']);
    const m = await client.createMachine(app, { config: mount(fork.id) });
    expect(m.region).toBe('iad');
    clock.advance(1);
    expect((await client.getVolume(app, fork.id)).state).toBe('created');
    const missing = await fail(
      client.createVolume(app, { name: 'data', source_volume_id: 'vol_0000000000000000' }),
    );
    expect(missing).toMatchObject({ status: 404 });
  });

  it('snapshots: running then created, retention_days from the volume, expiring after retention', async () => {
    const v = await client.createVolume(app, {
      name: 'keep',
      region: 'ams',
      snapshot_retention: 2,
    });
    await client.createSnapshot(app, v.id);
    const [running] = await client.listSnapshots(app, v.id);
    expect(running).toMatchObject({ status: 'running', retention_days: 2, volume_size: 3 });
    expect(running?.id).toMatch(/^vs_[A-Za-z0-9]{24}$/);
    clock.advance(10);
    expect((await client.listSnapshots(app, v.id))[0]?.status).toBe('created');

    const plain = await client.createVolume(app, { name: 'plain', region: 'ams' });
    await client.createSnapshot(app, plain.id);
    expect((await client.listSnapshots(app, plain.id))[0]?.retention_days).toBe(5);

    clock.advance(2 * DAY);
    expect(await client.listSnapshots(app, v.id)).toEqual([]);
    expect(await client.listSnapshots(app, plain.id)).toHaveLength(1);
  });

  it('restores from a snapshot: restoring → created; region is required', async () => {
    const v = await client.createVolume(app, { name: 'src', region: 'sin', size_gb: 4 });
    await client.createSnapshot(app, v.id);
    clock.advance(10);
    const [snap] = await client.listSnapshots(app, v.id);
    const noRegion = await fail(
      client.createVolume(app, { name: 'restored', snapshot_id: snap?.id }),
    );
    expect(noRegion).toMatchObject({ status: 400 });
    const restored = await client.createVolume(app, {
      name: 'restored',
      region: 'sin',
      snapshot_id: snap?.id,
    });
    expect(restored).toMatchObject({ state: 'restoring', size_gb: 4 });
    const early = await fail(client.createMachine(app, { config: mount(restored.id) }));
    expect(early).toMatchObject({ status: 412 });
    clock.advance(20);
    expect((await client.getVolume(app, restored.id)).state).toBe('created');
  });

  it('soft delete: scheduling_destroy then pending_destroy, hidden from the client list unless asked', async () => {
    const other = await h.makeApp();
    const keep = await client.createVolume(other, { name: 'keep', region: 'ams' });
    const gone = await client.createVolume(other, { name: 'gone', region: 'ams' });
    await client.createSnapshot(other, gone.id);
    expect((await client.deleteVolume(other, gone.id)).state).toBe('scheduling_destroy');
    clock.advance(5);
    expect((await client.getVolume(other, gone.id)).state).toBe('pending_destroy');
    expect((await client.listVolumes(other)).map((v) => v.id)).toEqual([keep.id]);
    const all = await client.listVolumes(other, { includeDeleted: true });
    expect(all.map((v) => [v.id, v.state])).toContainEqual([gone.id, 'pending_destroy']);
    // Snapshots outlive the volume; deleting again is a 404.
    expect(await client.listSnapshots(other, gone.id)).toHaveLength(1);
    expect(await fail(client.deleteVolume(other, gone.id))).toMatchObject({ status: 404 });
  });

  it('extends: grow only, extending → created, needs_restart while a started machine mounts it', async () => {
    const v = await client.createVolume(app, { name: 'grow', region: 'ams' });
    const alone = await client.extendVolume(app, v.id, 5);
    expect(alone).toMatchObject({
      needs_restart: false,
      volume: { state: 'extending', size_gb: 5 },
    });
    expect(await fail(client.extendVolume(app, v.id, 6))).toMatchObject({ status: 412 });
    clock.advance(10);
    const m = await client.createMachine(app, { config: mount(v.id) });
    await client.waitMachine(app, m.id, { state: 'started' });
    expect((await client.extendVolume(app, v.id, 8)).needs_restart).toBe(true);
    expect(await fail(client.extendVolume(app, v.id, 2))).toMatchObject({ status: 400 });
  });
});
