// Issue 18, defect 2: a region made unreachable (no snapshots) must not cost the instances
// their machines. Nothing is destroyed while no replacement can be made; every recovery
// waits, visibly, looking again with a capped backoff on the real clock; when the host is
// back every instance runs again on its own machine and volume.
import { describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { adminSession, bearer, get, makeApiKey, ownerHeader } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { instanceRow, recoveriesOfInstance, ringReconcile } from '../helpers/recovery.ts';
import {
  deliverUntil,
  expectFlyMatchesRows,
  provisionMany,
  recoveriesOf,
} from '../helpers/recovery-world.ts';

describe('a region unreachable, no snapshots: the recoveries wait for the host', async () => {
  const t = await createTestApp({
    serve: true,
    clock: testClock(new Date(), { follow: true }),
    env: { RECOVERY_FALLBACK_REGIONS: 'fra', RECOVERY_WAIT_MAX_SECONDS: '1' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const { cookie } = await adminSession(t);
  const platform = (await makeApiKey(t, 'platform')).key;
  const app = t.deps.config.fly.appName;

  it('20 instances: nothing destroyed while the host is away, each back on its own machine after', async () => {
    const fleet = await provisionMany(t, call, 20, { region: 'sin' });
    const ids = fleet.map((f) => f.id);
    await flyFaults(t, { unreachable: { regions: ['sin'] } });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(20);

    // Every recovery finds no replacement (the host is unreachable, there is no snapshot)
    // and waits for the host, looking again more than once.
    await deliverUntil(
      t,
      async () =>
        (await recoveriesOf(t, ids)).every(
          (r) => r.status === 'pending' && r.waitingFor === 'host_unreachable' && r.waits >= 2,
        ),
      { describe: async () => (await recoveriesOf(t, ids)).slice(0, 2) },
    );
    for (const f of fleet) {
      const machine = await t.deps.fly.getMachine(app, f.machineId);
      expect(machine.state, `${f.machineId} must not be destroyed`).toBe('stopped');
      expect((await t.deps.fly.getVolume(app, f.volumeId)).state).toBe('created');
      expect(await instanceRow(t, f.id)).toMatchObject({
        status: 'recovering',
        machineId: f.machineId,
        volumeId: f.volumeId,
      });
    }
    // Shown to the admin: the API and the instance's recovery card say what it waits for.
    const [first] = fleet;
    const shown = await call('GET', `/instances/${first?.id}?live=false`);
    expect(shown.body.recovery).toMatchObject({
      status: 'pending',
      waitingFor: 'host_unreachable',
    });
    expect(shown.body.recovery.lastError).toMatch(/unreachable.*no usable snapshot/);
    expect(shown.body.recovery.waitingSince).not.toBeNull();
    const card = await (
      await get(t, `/admin/instances/${first?.id}/recovery`, cookie, { 'HX-Request': 'true' })
    ).text();
    expect(card).toContain('Waiting for the host');
    expect(card).toContain('no usable snapshot');
    const list = await (await get(t, '/admin/recoveries', cookie)).text();
    expect(list.match(/Waiting for the host/g)?.length).toBeGreaterThanOrEqual(20);
    // And the product's apps: the instance is recovering, waiting for its host.
    const path = `/api/platform/instances/${first?.id}/status`;
    const status = await t.app.request(t.url(path), {
      headers: { ...bearer(platform), ...(await ownerHeader(t, path)) },
    });
    expect(await status.json()).toMatchObject({
      status: 'recovering',
      recovery: { step: 'started', waitingFor: 'host_unreachable' },
    });
    await expectFlyMatchesRows(t);

    // The host comes back: without a click, each instance is started in place.
    await flyFaults(t, null);
    await deliverUntil(
      t,
      async () => (await recoveriesOf(t, ids)).every((r) => r.status === 'succeeded'),
      {
        describe: async () =>
          (await recoveriesOf(t, ids)).filter((r) => r.status !== 'succeeded').slice(0, 2),
      },
    );
    for (const r of await recoveriesOf(t, ids))
      expect(r).toMatchObject({ inPlace: true, waitingFor: null });
    for (const f of fleet)
      expect(await instanceRow(t, f.id)).toMatchObject({
        status: 'running',
        machineId: f.machineId,
        volumeId: f.volumeId,
      });
    await expectFlyMatchesRows(t);
  });
});

describe('reconcile rings a recovery waiting for a host as soon as its listing shows the host back', async () => {
  // The default backoff (5 s, then growing) and a clock that does not move: only reconcile
  // can bring the next look forward.
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('the next look is moved to now and the machine starts in place', async () => {
    const instance = await provisioned(t, call, { region: 'syd' });
    await flyFaults(t, { unreachable: { machine_ids: [instance.machineId] } });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await t.deliverDue();
    const [waiting] = await recoveriesOfInstance(t, instance.id);
    expect(waiting).toMatchObject({ waitingFor: 'host_unreachable', waits: 1 });
    expect(waiting?.nextAttemptAt.getTime()).toBeGreaterThan(t.clock.now().getTime());
    // Still away: reconcile leaves it to its backoff.
    await ringReconcile(t);
    expect((await recoveriesOfInstance(t, instance.id))[0]?.nextAttemptAt).toEqual(
      waiting?.nextAttemptAt,
    );
    await flyFaults(t, null);
    await ringReconcile(t);
    await deliverUntil(
      t,
      async () => (await recoveriesOfInstance(t, instance.id))[0]?.status === 'succeeded',
      { rounds: 100 },
    );
    expect((await recoveriesOfInstance(t, instance.id))[0]).toMatchObject({ inPlace: true });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: instance.machineId,
    });
  });
});
