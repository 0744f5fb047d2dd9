import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceEvents } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, IMAGES, provisioned, seedCatalog, settleOperations } from '../helpers/fleet.ts';

describe('immediate instance actions through /api/admin', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);

  it('provisions: a volume, then a machine with it mounted, tagged with the instance', async () => {
    const instance = await provisioned(t, call, { region: 'sin' });
    const detail = (await call('GET', `/instances/${instance.id}`)).body;
    expect(detail).toMatchObject({
      status: 'running',
      region: 'sin',
      imageTag: IMAGES.current,
      lastError: null,
    });
    expect(detail.operation).toMatchObject({
      kind: 'provision',
      status: 'succeeded',
      step: 'done',
    });
    expect(detail.live.machine).toMatchObject({
      id: instance.machineId,
      state: 'started',
      image: IMAGES.current,
      instance_id: instance.machineVersion,
    });
    expect(detail.live.volume).toMatchObject({ id: instance.volumeId, region: 'sin' });
    const machine = await t.deps.fly.getMachine(t.deps.config.fly.appName, instance.machineId);
    expect(machine.config?.metadata?.fleetwarden_instance).toBe(instance.id);
    expect(machine.config?.mounts?.[0]?.volume).toBe(instance.volumeId);
    const events = await t.db.db
      .select()
      .from(instanceEvents)
      .where(eq(instanceEvents.instanceId, instance.id));
    expect(events.map((e) => e.type).sort()).toEqual([
      'provision_requested',
      'provision_succeeded',
    ]);
  });

  it('restarts on the same image and a new machine version, rejecting other actions meanwhile', async () => {
    const instance = await provisioned(t, call);
    const res = await call('POST', `/instances/${instance.id}/restart`);
    expect(res.status).toBe(202);
    expect(res.body.operation).toMatchObject({
      kind: 'restart',
      status: 'pending',
      fromImageTag: IMAGES.current,
      targetImageTag: IMAGES.current,
    });
    const during = (await call('GET', `/instances/${instance.id}?live=false`)).body;
    expect(during.status).toBe('restarting');
    const busy = await call('POST', `/instances/${instance.id}/version`, {
      imageTag: IMAGES.latest,
    });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ type: '/problems/instance-busy' });
    expect((await call('POST', `/instances/${instance.id}/stop`)).status).toBe(409);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after).toMatchObject({ status: 'running', imageTag: IMAGES.current });
    expect(after.machineVersion).not.toBe(instance.machineVersion);
    expect(after.live.machine.instance_id).toBe(after.machineVersion);
    expect(after.operation).toMatchObject({
      status: 'succeeded',
      expectedVersion: after.machineVersion,
    });
    const audit = (await call('GET', `/audit-log?subjectId=${instance.id}&action=instance.restart`))
      .body;
    expect(audit.items).toHaveLength(1);
  });

  it('changes version only to an available catalog image, and not to the one it runs', async () => {
    const instance = await provisioned(t, call);
    expect(
      (
        await call('POST', `/instances/${instance.id}/version`, {
          imageTag: 'registry.fly.io/agent:9.9.9',
        })
      ).body,
    ).toMatchObject({ status: 422, type: '/problems/unknown-image' });
    expect(
      (await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.disabled })).body,
    ).toMatchObject({ status: 422, type: '/problems/image-disabled' });
    expect(
      (await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.current })).body,
    ).toMatchObject({ status: 422, type: '/problems/already-on-target' });
    expect((await call('POST', `/instances/${instance.id}/version`, {})).status).toBe(400);
    const res = await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.old });
    expect(res.status).toBe(202);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after).toMatchObject({ status: 'running', imageTag: IMAGES.old });
    expect(after.live.machine.image).toBe(IMAGES.old);
  });

  it('needs an explicit override on a pinned instance, which moves the pin', async () => {
    const instance = await provisioned(t, call);
    expect(
      (
        await call('PUT', `/instances/${instance.id}/pin`, {
          imageTag: IMAGES.current,
          reason: 'customer request',
        })
      ).status,
    ).toBe(200);
    const refused = await call('POST', `/instances/${instance.id}/upgrade-to-latest`, {});
    expect(refused.body).toMatchObject({
      status: 409,
      type: '/problems/pinned',
      pinnedImageTag: IMAGES.current,
    });
    const res = await call('POST', `/instances/${instance.id}/upgrade-to-latest`, {
      overridePin: true,
    });
    expect(res.status).toBe(202);
    expect(res.body.operation.targetImageTag).toBe(IMAGES.latest);
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after).toMatchObject({
      imageTag: IMAGES.latest,
      pinnedImageTag: IMAGES.latest,
      status: 'running',
    });
    expect((await call('DELETE', `/instances/${instance.id}/pin`)).status).toBe(204);
    expect((await call('DELETE', `/instances/${instance.id}/pin`)).status).toBe(204);
    expect(
      (await call('GET', `/instances/${instance.id}?live=false`)).body.pinnedImageTag,
    ).toBeNull();
  });

  it('stops and starts the machine', async () => {
    const instance = await provisioned(t, call);
    expect((await call('POST', `/instances/${instance.id}/start`)).body).toMatchObject({
      status: 409,
      type: '/problems/not-stopped',
    });
    expect((await call('POST', `/instances/${instance.id}/stop`)).status).toBe(202);
    await settleOperations(t);
    const stopped = (await call('GET', `/instances/${instance.id}`)).body;
    expect(stopped.status).toBe('stopped');
    expect(stopped.live.machine.state).toBe('stopped');
    expect((await call('POST', `/instances/${instance.id}/stop`)).body).toMatchObject({
      status: 409,
      type: '/problems/not-running',
    });
    expect((await call('POST', `/instances/${instance.id}/start`)).status).toBe(202);
    await settleOperations(t);
    const started = (await call('GET', `/instances/${instance.id}`)).body;
    expect(started).toMatchObject({ status: 'running' });
    expect(started.live.machine.state).toBe('started');
  });

  it('answers 404 for an unknown instance and 400 for a malformed id', async () => {
    expect(
      (await call('POST', '/instances/0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11/restart')).status,
    ).toBe(404);
    expect((await call('POST', '/instances/nope/restart')).status).toBe(400);
  });

  it('adopts the machines of a Fly app, once', async () => {
    const app = t.deps.config.fly.appName;
    const machine = await t.deps.fly.createMachine(app, {
      name: 'adopted-one',
      region: 'iad',
      config: {
        image: 'registry.fly.io/agent:7.7.7',
        metadata: { fleetwarden_user_email: 'Adopted@Example.test' },
      },
    });
    const first = await call('POST', '/instances/import', { appName: app });
    expect(first.status).toBe(200);
    expect(first.body.imported).toBeGreaterThanOrEqual(1);
    const again = await call('POST', '/instances/import', { appName: app });
    expect(again.body.imported).toBe(0);
    const list = (await call('GET', '/instances?q=adopted-one')).body;
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      machineId: machine.id,
      region: 'iad',
      imageTag: 'registry.fly.io/agent:7.7.7',
      user: { email: 'adopted@example.test' },
    });
  });
});
