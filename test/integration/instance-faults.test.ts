import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import {
  api,
  flyFaults,
  IMAGES,
  provisioned,
  seedCatalog,
  settleOperations,
} from '../helpers/fleet.ts';

// Each Fly fault the simulator can inject, through a real action, ending in the right state.
describe('immediate actions under Fly faults', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const app = t.deps.config.fly.appName;
  const userUpdates = async (machineId: string) =>
    (await t.deps.fly.listMachineEvents(app, machineId)).filter(
      (e) => e.type === 'update' && e.source === 'user',
    ).length;
  const reset = () => flyFaults(t, null);

  it('retries Fly 5xx on the update and then succeeds, updating once', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { errors: [{ endpoint: 'update_machine', status: 503, times: 2 }] });
    expect(
      (await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.latest })).status,
    ).toBe(202);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after).toMatchObject({ status: 'running', imageTag: IMAGES.latest });
    expect(after.operation.attempts).toBeGreaterThan(2);
    expect(await userUpdates(instance.machineId)).toBe(1);
    await reset();
  });

  it('adopts an update that happened behind an ambiguous 500 instead of updating twice', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, {
      errors: [{ endpoint: 'update_machine', status: 500, times: 1, phase: 'after' }],
    });
    await call('POST', `/instances/${instance.id}/restart`);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after.status).toBe('running');
    expect(after.machineVersion).not.toBe(instance.machineVersion);
    expect(await userUpdates(instance.machineId)).toBe(1);
    await reset();
  });

  it('fails on a region out of capacity, with the reason on the instance', async () => {
    const instance = await provisioned(t, call, { region: 'fra' });
    await flyFaults(t, { out_of_capacity: ['fra'] });
    await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.latest });
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}?live=false`)).body;
    expect(after.status).toBe('failed');
    expect(after.operation.status).toBe('failed');
    expect(after.lastError).toMatch(/capacity/i);
    await reset();
  });

  it('fails a silent revert: the update answered, the machine came back on the old version', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { image_pull_failures: [IMAGES.latest] });
    await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.latest });
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after.status).toBe('failed');
    expect(after.lastError).toMatch(/reverted/);
    expect(after.lastError).toContain(instance.machineVersion);
    expect(after.imageTag).toBe(IMAGES.current);
    expect(after.live.machine.image).toBe(IMAGES.current);
    await reset();
  });

  it('fails after repeated unhealthy gateway probes', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { unhealthy_machines: [instance.machineId] });
    await call('POST', `/instances/${instance.id}/restart`);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}?live=false`)).body;
    expect(after.status).toBe('failed');
    expect(after.lastError).toMatch(/health probe failed 5 times/);
    await reset();
  });

  it('fails a start that never settles once the deadline passes (host unreachable)', async () => {
    const instance = await provisioned(t, call);
    await call('POST', `/instances/${instance.id}/stop`);
    await settleOperations(t);
    await flyFaults(t, { unreachable: { machine_ids: [instance.machineId] } });
    await call('POST', `/instances/${instance.id}/start`);
    await settleOperations(t, { stepMs: 60_000 });
    const after = (await call('GET', `/instances/${instance.id}?live=false`)).body;
    expect(after.operation).toMatchObject({ kind: 'start', status: 'failed' });
    expect(after.operation.error).toMatch(/deadline/);
    // A failed start leaves the instance stopped, with the reason.
    expect(after.status).toBe('stopped');
    expect(after.lastError).toMatch(/deadline/);
    await reset();
  });

  it('waits out 408s from Fly wait until the machine settles', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { errors: [{ endpoint: 'wait', status: 408, times: 3 }] });
    await call('POST', `/instances/${instance.id}/restart`);
    await settleOperations(t);
    expect((await call('GET', `/instances/${instance.id}?live=false`)).body.status).toBe('running');
    await reset();
  });

  it('backs off on 429 rate limiting and completes', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, { errors: [{ endpoint: 'get_machine', status: 429, times: 2 }] });
    await call('POST', `/instances/${instance.id}/restart`);
    await settleOperations(t);
    expect((await call('GET', `/instances/${instance.id}?live=false`)).body.status).toBe('running');
    await reset();
  });
});
