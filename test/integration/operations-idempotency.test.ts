import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instanceOperations, scheduledActionTargets } from '../../db/schema/index.ts';
import { recoverAtStart } from '../../src/doorbells/run.ts';
import { INSTANCE_METADATA_KEY } from '../../src/fleet/operations/provision-step.ts';
import { claimStep } from '../../src/fleet/operations/store.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringStageNow, sweepNow, userUpdates } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import {
  api,
  fleetOf,
  flyFaults,
  IMAGES,
  seedCatalog,
  settleOperations,
  settleScheduler,
} from '../helpers/fleet.ts';

describe('Fly creates and crashes: nothing is made twice', async () => {
  // Set by a test: the next machine create succeeds on Fly, then the process "dies" before
  // it can save the machine's id (the handler throws a non-Fly error).
  let crashAfterCreate = false;
  const t = await createTestApp({
    serve: true,
    wrapFly: (fly) => ({
      ...fly,
      async createMachine(app, request) {
        const machine = await fly.createMachine(app, request);
        if (crashAfterCreate) {
          crashAfterCreate = false;
          throw new Error('the process died after Fly created the machine');
        }
        return machine;
      },
    }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;
  const provision = async () => {
    const res = await call('POST', '/instances', {
      userEmail: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`,
      region: 'ams',
      imageTag: IMAGES.current,
    });
    expect(res.status).toBe(202);
    return res.body as { instanceId: string; operation: { id: string } };
  };
  const volumesNamedFor = async (operationId: string) =>
    (await t.deps.fly.listVolumes(app)).filter((v) =>
      v.name.endsWith(`_${operationId.replace(/-/g, '').slice(0, 8)}`),
    );

  it('a 503 that Fly sends after creating the volume leaves one volume, the one the instance uses', async () => {
    await flyFaults(t, {
      errors: [{ endpoint: 'create_volume', status: 503, phase: 'after', times: 1 }],
    });
    const { instanceId, operation } = await provision();
    await settleOperations(t);
    const instance = (await call('GET', `/instances/${instanceId}?live=false`)).body;
    expect(instance.status).toBe('running');
    const volumes = await volumesNamedFor(operation.id);
    expect(volumes.map((v) => v.id)).toEqual([instance.volumeId]);
    await flyFaults(t, null);
  });

  it('a crash between the machine create and saving its id leaves one machine', async () => {
    crashAfterCreate = true;
    const { instanceId } = await provision();
    await t.deliverDue();
    const [op] = await t.db.db
      .select()
      .from(instanceOperations)
      .where(eq(instanceOperations.instanceId, instanceId));
    // The handler died holding its claim: nothing saved, a machine on Fly.
    expect(op).toMatchObject({ status: 'running', attempts: 1 });
    expect(op?.claimToken).not.toBeNull();
    const tagged = () =>
      t.deps.fly.listMachines(app, { metadata: { [INSTANCE_METADATA_KEY]: instanceId } });
    expect(await tagged()).toHaveLength(1);
    // The lease passes; the sweep returns it; the rerun finds the machine by its tag.
    t.clock.advance(61_000);
    expect((await sweepNow(t)).leasesReturned).toBe(1);
    await settleOperations(t);
    const machines = await tagged();
    expect(machines).toHaveLength(1);
    const instance = (await call('GET', `/instances/${instanceId}?live=false`)).body;
    expect(instance).toMatchObject({ status: 'running', machineId: machines[0]?.id });
  });

  it('a 503 that Fly sends after applying an update is adopted by the rerun, not sent again', async () => {
    const [instance] = await fleetOf(t, 1);
    if (!instance) throw new Error('no instance');
    await flyFaults(t, {
      errors: [{ endpoint: 'update_machine', status: 503, phase: 'after', times: 1 }],
    });
    const res = await call('POST', `/instances/${instance.id}/version`, {
      imageTag: IMAGES.latest,
    });
    expect(res.status).toBe(202);
    await settleOperations(t);
    expect(await userUpdates(t, instance.machineId)).toBe(1);
    expect((await call('GET', `/instances/${instance.id}?live=false`)).body).toMatchObject({
      status: 'running',
      imageTag: IMAGES.latest,
    });
    await flyFaults(t, null);
  });
});

describe('start-up recovery of a single-process server', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('resumes work the stopped process held at once, not when its leases pass', async () => {
    const fleet = await fleetOf(t, 3);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'crash and restart',
    });
    const [stage] = await t.db.db
      .select({ stageId: scheduledActionTargets.stageId })
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id))
      .limit(1);
    expect((await ringStageNow(t, stage?.stageId ?? '')).status).toBe(200);
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, res.body.id));
    // The process claims every operation's step, then stops (its doorbells are gone too).
    for (const target of targets)
      expect(
        await claimStep(t.db.db, target.operationId ?? '', t.clock.now(), 60_000),
      ).not.toBeNull();
    await fetch(`${t.origin}/__dev/qstash/v2/messages`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${t.deps.config.qstash.token}` },
    });
    // The next start: no time passes, yet everything finishes.
    const recovered = await recoverAtStart(t.deps);
    expect(recovered).toMatchObject({ leasesReturned: 3, rerung: 3 });
    await settleScheduler(t, { stepMs: 0, maxRounds: 10 });
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body).toMatchObject({
      status: 'completed',
      counts: { applied: 3 },
    });
    for (const f of fleet) expect(await userUpdates(t, f.machineId)).toBe(1);
  });
});
