import { describe, expect, it } from 'vitest';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

describe('fly simulator: state lives in the database, and concurrent requests agree', async () => {
  const first = await createFlyHarness();
  const app = await first.makeApp();
  const volume = await first.client.createVolume(app, { name: 'data', region: 'ams' });
  const booting = await first.client.createMachine(app, {
    config: agentConfig(undefined, { mounts: [{ volume: volume.id, path: '/data' }] }),
  });
  const idle = await first.client.createMachine(app, { config: agentConfig(), skip_launch: true });
  const lease = await first.client.acquireLease(app, idle.id, { ttlSeconds: 3600 });
  await first.client.createSnapshot(app, volume.id);
  await first.call('POST', '/_faults', { unhealthy_machines: [booting.id] });

  it('a new simulator on the same database serves the same fleet, advanced by its clock', async () => {
    // As after a restart: a new instance, a clock a minute on.
    const second = await createFlyHarness({ db: first.db });
    second.clock.advance(60_000);
    const machines = await second.client.listMachines(app);
    expect(machines.map((m) => [m.id, m.state]).sort()).toEqual(
      [
        [booting.id, 'started'],
        [idle.id, 'created'],
      ].sort(),
    );
    expect((await second.client.getVolume(app, volume.id)).attached_machine_id).toBe(booting.id);
    expect((await second.client.listSnapshots(app, volume.id))[0]?.status).toBe('created');
    const held = await second.call('GET', `/v1/apps/${app}/machines/${idle.id}/lease`);
    expect((await held.json()).data.nonce).toBe(lease.data.nonce);
    // Faults are kept in memory only: the new instance starts without them.
    expect((await (await second.call('GET', '/_faults')).json()).unhealthy_machines).toEqual([]);
  });

  it('concurrent readers apply a due transition once; concurrent stops make one stop', async () => {
    const m = await first.client.createMachine(app, { config: agentConfig() });
    first.clock.advance(60_000);
    const seen = await Promise.all(
      Array.from({ length: 8 }, () => first.client.getMachine(app, m.id)),
    );
    expect(new Set(seen.map((x) => x.state))).toEqual(new Set(['started']));
    const events = await first.client.listMachineEvents(app, m.id);
    expect(events.filter((e) => e.type === 'start' && e.status === 'started')).toHaveLength(1);

    await Promise.all(Array.from({ length: 5 }, () => first.client.stopMachine(app, m.id)));
    const after = await first.client.listMachineEvents(app, m.id);
    expect(after.filter((e) => e.type === 'stop')).toHaveLength(1);
    expect((await first.client.getMachine(app, m.id)).state).toBe('stopping');
  });
});
