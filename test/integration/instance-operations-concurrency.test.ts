import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceOperations } from '../../db/schema/index.ts';
import { OPERATIONS_PATH } from '../../src/fleet/operations/model.ts';
import { claimStep } from '../../src/fleet/operations/store.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, IMAGES, provisioned, seedCatalog, settleOperations } from '../helpers/fleet.ts';
import { qstashSignature } from '../helpers/signing.ts';

describe('instance actions under concurrency and crashes', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const app = t.deps.config.fly.appName;
  const userUpdates = async (machineId: string) =>
    (await t.deps.fly.listMachineEvents(app, machineId)).filter(
      (e) => e.type === 'update' && e.source === 'user',
    ).length;
  const operationOf = async (instanceId: string) =>
    (
      await t.db.db
        .select()
        .from(instanceOperations)
        .where(eq(instanceOperations.instanceId, instanceId))
    ).find((o) => o.kind !== 'provision');

  it('lets exactly one of two concurrent requests start an action', async () => {
    const instance = await provisioned(t, call);
    const results = await Promise.all([
      call('POST', `/instances/${instance.id}/restart`),
      call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.latest }),
      call('POST', `/instances/${instance.id}/stop`),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    await settleOperations(t);
    expect(await userUpdates(instance.machineId)).toBeLessThanOrEqual(1);
  });

  it('applies a step once when the same doorbell arrives 20 times at once', async () => {
    const instance = await provisioned(t, call);
    const { operation } = (await call('POST', `/instances/${instance.id}/restart`)).body;
    const url = t.url(OPERATIONS_PATH);
    const body = JSON.stringify({ operationId: operation.id });
    const deliveries = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Upstash-Signature': await qstashSignature({ url, body }),
            'Upstash-Message-Id': `msg_dup_${i % 2}`,
          },
          body,
        }),
      ),
    );
    expect(deliveries.every((r) => r.status === 200)).toBe(true);
    await settleOperations(t);
    expect(await userUpdates(instance.machineId)).toBe(1);
    expect((await call('GET', `/instances/${instance.id}?live=false`)).body.status).toBe('running');
  });

  it('resumes after a handler died between its claim and its outcome, without a second update', async () => {
    const instance = await provisioned(t, call);
    await call('POST', `/instances/${instance.id}/version`, { imageTag: IMAGES.latest });
    const op = await operationOf(instance.id);
    // A handler claims the step and dies before doing anything.
    const claimed = await claimStep(t.db.db, op?.id ?? '', t.clock.now(), 60_000);
    expect(claimed?.op.claimToken).toBeTruthy();
    await t.deliverDue();
    expect((await operationOf(instance.id))?.status).toBe('running');
    expect(await userUpdates(instance.machineId)).toBe(0);

    // The lease expires; the sweep returns it and rings the step again.
    t.clock.advance(2 * 60_000);
    const sweep = await t.app.request(t.url('/api/callbacks/sweep'), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Upstash-Signature': await qstashSignature({
          url: t.url('/api/callbacks/sweep'),
          body: '{}',
        }),
      },
      body: '{}',
    });
    expect(await sweep.json()).toMatchObject({ leasesReturned: 1, rerung: 1 });
    await settleOperations(t);
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after).toMatchObject({ status: 'running', imageTag: IMAGES.latest });
    expect(await userUpdates(instance.machineId)).toBe(1);
  });

  it('rings again a step whose doorbell was lost', async () => {
    const instance = await provisioned(t, call);
    await call('POST', `/instances/${instance.id}/restart`);
    const op = await operationOf(instance.id);
    // Lose the doorbell: cancel every pending message in the emulator.
    await fetch(`${t.origin}/__dev/qstash/v2/messages`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${t.deps.config.qstash.token}` },
    });
    await t.deliverDue();
    expect((await operationOf(instance.id))?.status).toBe('pending');
    t.clock.advance(60_000);
    const body = '{}';
    const url = t.url('/api/callbacks/sweep');
    const sweep = await t.app.request(url, {
      method: 'POST',
      headers: { 'Upstash-Signature': await qstashSignature({ url, body }) },
      body,
    });
    expect((await sweep.json()).rerung).toBeGreaterThanOrEqual(1);
    await settleOperations(t);
    expect(await operationOf(instance.id)).toMatchObject({ id: op?.id, status: 'succeeded' });
  });
});
