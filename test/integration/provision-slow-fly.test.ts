// Provisioning when Fly answers slowly: each create is made once, never twice.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceOperations } from '../../db/schema/index.ts';
import { INSTANCE_METADATA_KEY } from '../../src/fleet/operations/provision-step.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { ringOperationNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, IMAGES, seedCatalog, settleOperations } from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a volume create answered after the client timeout', async () => {
  const t = await createTestApp({ serve: true, env: { FLY_REQUEST_TIMEOUT_SECONDS: '1' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  it('leaves one volume (observed: two, one orphaned)', async () => {
    // Each create reaches Fly after 3 s (300 s × the simulator's 0.01); the client gives up
    // after 1 s, lists (nothing yet), and sends the create again.
    const latencyMs = 300_000;
    await flyFaults(t, { latency: [{ endpoint: 'create_volume', ms: latencyMs }] });
    const res = await call('POST', '/instances', {
      userEmail: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`,
      region: 'ams',
      imageTag: IMAGES.current,
    });
    expect(res.status).toBe(202);
    const opId = res.body.operation.id as string;
    await t.deliverDue();
    // Both creates were sent before the handler answered; each lands its latency on the
    // simulator's clock later (and a margin for its own handling).
    const landsBy = Date.now() + latencyMs * t.flyTimeScale + 300;
    await flyFaults(t, null);
    await new Promise((r) => setTimeout(r, Math.max(0, landsBy - Date.now())));
    await settleOperations(t);
    const instance = (await call('GET', `/instances/${res.body.instanceId}?live=false`)).body;
    expect(instance.status).toBe('running');
    const volumes = (await t.deps.fly.listVolumes(app)).filter((v) =>
      v.name.endsWith(`_${opId.replace(/-/g, '').slice(0, 8)}`),
    );
    expect(volumes.map((v) => v.id)).toEqual([instance.volumeId]);
  }, 30_000);
});

describe('a provision handler that outlives its lease while Fly is slow', async () => {
  // Lease 5 s > budget 1 s + one request 3 s, as config requires; but the call step makes
  // two creates, each just under the timeout.
  const t = await createTestApp({
    serve: true,
    clock: testClock(new Date(), { follow: true }),
    env: { CLAIM_LEASE_SECONDS: '5', STEP_BUDGET_SECONDS: '1', FLY_REQUEST_TIMEOUT_SECONDS: '3' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  it('makes one machine and provisions the instance (observed: a second create, 412, provision failed, orphan machine)', async () => {
    await flyFaults(t, {
      latency: [
        { endpoint: 'create_volume', ms: 280_000 },
        { endpoint: 'create_machine', ms: 280_000 },
      ],
    });
    const res = await call('POST', '/instances', {
      userEmail: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`,
      region: 'ams',
      imageTag: IMAGES.current,
    });
    expect(res.status).toBe(202);
    const opId = res.body.operation.id as string;
    const instanceId = res.body.instanceId as string;
    // Handler A: a live handler, never stalled, only waiting on Fly.
    const a = ringOperationNow(t, opId, 'msg_a');
    await sleep(5300);
    // A's lease (5 s of real time: the lease is what is tested) has passed; any doorbell
    // now (a duplicate, the sweep's re-ring) claims it.
    const b = await ringOperationNow(t, opId, 'msg_b');
    const ra = await a;
    expect(b.status).toBe(200);
    await flyFaults(t, null);
    await settleOperations(t, { stepMs: 500 }).catch(() => {});
    const [final] = await t.db.db
      .select()
      .from(instanceOperations)
      .where(eq(instanceOperations.id, opId));
    const machines = await t.deps.fly.listMachines(app, {
      metadata: { [INSTANCE_METADATA_KEY]: instanceId },
    });
    const instance = (await call('GET', `/instances/${instanceId}?live=false`)).body;
    expect(final?.status).toBe('succeeded');
    expect(ra.body.run).not.toBe('claim_lost');
    expect(machines).toHaveLength(1);
    expect(instance).toMatchObject({ status: 'running', machineId: machines[0]?.id });
  }, 40_000);
});
