import { describe, expect, it } from 'vitest';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { createHttpGateway } from '../../src/adapters/fly/gateway.ts';
import { waitForMachineState } from '../../src/adapters/fly/wait.ts';
import { simulatorGatewayUrlFor } from '../../src/dev-servers/fly-simulator/index.ts';
import { agentConfig, createFlyHarness, SIM_BASE } from '../helpers/fly.ts';

describe('fly simulator faults: hosts, unexpected stops, reverted updates, the gateway', async () => {
  const h = await createFlyHarness();
  const { client } = h;
  const app = await h.makeApp();
  const gateway = createHttpGateway({ urlFor: simulatorGatewayUrlFor(SIM_BASE), fetch: h.fetch });
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: FlyApiError) => e,
    );
  const faults = (body: unknown) => h.call('POST', '/_faults', body);
  const running = async (config = agentConfig(), region = 'ams') => {
    const m = await client.createMachine(app, { config, region });
    await client.waitMachine(app, m.id, { state: 'started' });
    return m;
  };

  it('the gateway answers for a started machine, 503 otherwise', async () => {
    const m = await running();
    expect(
      await gateway.probe({ appName: app, machineId: m.id, instanceId: m.instance_id }),
    ).toEqual({
      healthy: true,
      status: 200,
      detail: 'HTTP 200',
      instanceId: m.instance_id,
    });
    const body = await (
      await h.fetch(simulatorGatewayUrlFor(SIM_BASE)({ appName: app, machineId: m.id }))
    ).json();
    expect(body).toEqual({
      status: 'ok',
      instance_id: m.instance_id,
      image: 'registry.fly.io/agent:v1.0.0',
    });
    await client.stopMachine(app, m.id);
    expect(await gateway.probe({ appName: app, machineId: m.id })).toMatchObject({
      healthy: false,
      status: 503,
      detail: 'HTTP 503: machine is stopping',
    });
  });

  it('marks a machine unhealthy at the gateway until the faults are cleared', async () => {
    const m = await running();
    await faults({ unhealthy_machines: [m.id] });
    expect(await gateway.probe({ appName: app, machineId: m.id })).toMatchObject({
      healthy: false,
      detail: 'HTTP 503: health check failing (injected fault)',
    });
    await h.call('DELETE', '/_faults');
    expect((await gateway.probe({ appName: app, machineId: m.id })).healthy).toBe(true);
  });

  it('stops a machine unexpectedly: state stopped, an exit event from flyd', async () => {
    const m = await running();
    expect((await faults({ stop_machines: [{ machine_id: m.id, exit_code: 1 }] })).status).toBe(
      200,
    );
    const after = await client.getMachine(app, m.id);
    expect(after.state).toBe('stopped');
    expect(after.events?.[0]).toMatchObject({
      type: 'exit',
      status: 'stopped',
      source: 'flyd',
      request: { exit_event: { exit_code: 1, requested_stop: false, oom_killed: false } },
    });
  });

  it('an unreachable host: its machines stop, report unreachable without config, refuse work', async () => {
    const volume = await client.createVolume(app, { name: 'data', region: 'fra' });
    const m = await running(
      agentConfig(undefined, { mounts: [{ volume: volume.id, path: '/data' }] }),
      'fra',
    );
    const bystander = await running(agentConfig(), 'fra');
    await faults({ unreachable: { machine_ids: [m.id] } });
    const down = await client.getMachine(app, m.id);
    expect(down).toMatchObject({ state: 'stopped', host_status: 'unreachable' });
    expect(down.config).toBeUndefined();
    expect(down.incomplete_config?.mounts).toEqual([{ volume: volume.id, path: '/data' }]);
    expect((await client.getVolume(app, volume.id)).host_status).toBe('unreachable');
    expect(await client.getMachine(app, bystander.id)).toMatchObject({
      state: 'started',
      host_status: 'ok',
    });
    expect(await fail(client.startMachine(app, m.id))).toMatchObject({
      status: 503,
      code: 'unavailable',
    });
    expect(
      await fail(client.createVolume(app, { name: 'data', source_volume_id: volume.id })),
    ).toMatchObject({
      status: 412,
    });
    // The way out: a volume restored elsewhere and a new machine (forced delete still works).
    await client.deleteMachine(app, m.id, { force: true });
    await h.call('DELETE', '/_faults');
    expect(await client.getMachine(app, m.id)).toMatchObject({ host_status: 'ok' });
  });

  it('a whole region unreachable stops every machine in it', async () => {
    const a = await running(agentConfig(), 'gru');
    const b = await running(agentConfig(), 'gru');
    const shown = await (await faults({ unreachable: { regions: ['gru'] } })).json();
    expect(shown.unreachable.regions).toEqual(['gru']);
    for (const id of [a.id, b.id])
      expect(await client.getMachine(app, id)).toMatchObject({
        state: 'stopped',
        host_status: 'unreachable',
      });
    await h.call('DELETE', '/_faults');
  });

  it('a failing image pull: update answers 200 with a new version, then reverts to the old one', async () => {
    const m = await running();
    await faults({ image_pull_failures: ['registry.fly.io/agent:broken'] });
    const updated = await client.updateMachine(app, m.id, {
      config: { ...(m.config ?? agentConfig()), image: 'registry.fly.io/agent:broken' },
    });
    expect(updated.instance_id).not.toBe(m.instance_id);
    expect(updated.config?.image).toBe('registry.fly.io/agent:broken');
    // A settled wait on the new version ends: that version was replaced (flyctl #4878).
    expect(
      await client.waitMachine(app, m.id, {
        state: 'settled',
        instanceId: updated.instance_id,
        timeoutSeconds: 5,
      }),
    ).toEqual({ ok: true, state: 'replaced' });
    const after = await client.getMachine(app, m.id);
    expect(after).toMatchObject({ state: 'started', instance_id: m.instance_id });
    expect(after.config?.image).toBe('registry.fly.io/agent:v1.0.0');
    // Callers that check the version see it; a plain "started" check would not.
    const stuck = await fail(
      waitForMachineState(client, app, m.id, {
        state: 'started',
        instanceId: updated.instance_id,
        deadlineMs: 60_000,
        perCallTimeoutSeconds: 1,
        now: h.clock.now,
      }),
    );
    expect(stuck).toMatchObject({ status: 412, code: 'failed_precondition' });
    expect(stuck?.message).toContain('was replaced');
    expect(
      await gateway.probe({ appName: app, machineId: m.id, instanceId: updated.instance_id }),
    ).toMatchObject({
      healthy: false,
      detail: `answered as version ${m.instance_id}, expected ${updated.instance_id}`,
    });
    await h.call('DELETE', '/_faults');
  });

  it('an unreachable host: its volume cannot be forked, its snapshot restores in another region', async () => {
    const volume = await client.createVolume(app, { name: 'keep', region: 'sin' });
    await client.createSnapshot(app, volume.id);
    h.clock.advance(1000);
    const m = await running(
      agentConfig(undefined, { mounts: [{ volume: volume.id, path: '/data' }] }),
      'sin',
    );
    await faults({ unreachable: { machine_ids: [m.id] } });
    const [snapshot] = await client.listSnapshots(app, volume.id);
    expect(snapshot?.status).toBe('created');
    const restored = await client.createVolume(app, {
      name: 'keep',
      region: 'syd',
      snapshot_id: snapshot?.id,
    });
    expect(restored).toMatchObject({ region: 'syd', state: 'restoring', host_status: 'ok' });
    await h.call('DELETE', '/_faults');
  });

  it('a region out of capacity refuses volumes and machines with 412 insufficient_capacity', async () => {
    await faults({ out_of_capacity: ['jnb'] });
    expect(await fail(client.createVolume(app, { name: 'full', region: 'jnb' }))).toMatchObject({
      status: 412,
      code: 'insufficient_capacity',
    });
    expect(
      await fail(client.createMachine(app, { config: agentConfig(), region: 'jnb' })),
    ).toMatchObject({ status: 412, code: 'insufficient_capacity' });
    await h.call('DELETE', '/_faults');
  });

  it('slow_hydration_ms keeps a fork hydrating (and mountable) until it has passed', async () => {
    const source = await client.createVolume(app, { name: 'src', region: 'ams' });
    await faults({ slow_hydration_ms: 600_000 });
    const fork = await client.createVolume(app, { name: 'src', source_volume_id: source.id });
    h.clock.advance(1000);
    expect((await client.getVolume(app, fork.id)).state).toBe('hydrating');
    const m = await client.createMachine(app, {
      config: agentConfig(undefined, { mounts: [{ volume: fork.id, path: '/data' }] }),
    });
    expect(m.region).toBe('ams');
    h.clock.advance(6000);
    expect((await client.getVolume(app, fork.id)).state).toBe('created');
    await h.call('DELETE', '/_faults');
  });

  it('slow_start_ms: a start outlasts the wait (408), then reaches started', async () => {
    await faults({ slow_start_ms: 120_000 });
    const m = await client.createMachine(app, { config: agentConfig(), region: 'ams' });
    expect(
      await fail(client.waitMachine(app, m.id, { state: 'started', timeoutSeconds: 1 })),
    ).toMatchObject({ status: 408 });
    h.clock.advance(1300);
    expect((await client.getMachine(app, m.id)).state).toBe('started');
    expect((await (await faults({ slow_start_ms: 0 })).json()).slow_start_ms).toBe(0);
  });
});
