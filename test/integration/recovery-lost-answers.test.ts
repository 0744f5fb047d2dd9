// Issue 18: every Fly call of a recovery that creates or changes something, with its answer
// lost after the effect (a 5xx sent after the work, or an answer held back past the
// client's timeout). Each ends in one outcome that matches Fly: nothing doubled, nothing
// leaked, and — for the 5xx — decided by looking, not by another try (one try per step).
import { describe, expect, it, onTestFinished } from 'vitest';
import { REQUEST_ID_KEY } from '../../src/adapters/fly/create-machine.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import {
  instanceRow,
  recoveriesOfInstance,
  ringReconcile,
  settleRecoveries,
} from '../helpers/recovery.ts';
import { expectFlyMatchesRows } from '../helpers/recovery-world.ts';

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** One live machine carries the recovery's tag, and it is the instance's. */
async function expectOneReplacement(t: TestApp, instanceId: string, recoveryId: string) {
  const app = t.deps.config.fly.appName;
  const tagged = (
    await t.deps.fly.listMachines(app, { metadata: { [REQUEST_ID_KEY]: recoveryId } })
  ).filter((m) => m.state !== 'destroyed' && m.state !== 'destroying');
  expect(tagged.map((m) => m.id)).toEqual([(await instanceRow(t, instanceId)).machineId]);
}

/** An admin's relocation of a running instance: every call of the move is made once. */
async function relocate(t: TestApp, call: ReturnType<typeof api>, fault: Record<string, unknown>) {
  const instance = await provisioned(t, call);
  await flyFaults(t, fault);
  onTestFinished(() => flyFaults(t, null));
  const begun = await call('POST', `/instances/${instance.id}/recover`, { relocate: true });
  expect(begun.status).toBe(202);
  await settleRecoveries(t);
  await flyFaults(t, null);
  const [r] = await recoveriesOfInstance(t, instance.id);
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'succeeded', volumeSource: 'fork' });
  expect(r?.oldMachineDestroyedAt).toBeInstanceOf(Date);
  expect(r?.oldVolumeDeletedAt).not.toBeNull();
  expect(await instanceRow(t, instance.id)).toMatchObject({
    status: 'running',
    machineId: r?.newMachineId,
    volumeId: r?.newVolumeId,
  });
  expect((await t.deps.fly.getMachine(t.deps.config.fly.appName, instance.machineId)).state).toBe(
    'destroyed',
  );
  await expectOneReplacement(t, instance.id, r?.id ?? '');
  await expectFlyMatchesRows(t);
}

const RELOCATION_CALLS = [
  'stop_machine',
  'create_volume',
  'create_machine',
  'delete_machine',
  'start_machine',
  'delete_volume',
] as const;

describe('a 5xx after the effect: settled by looking, with one try per step', async () => {
  const t = await createTestApp({
    serve: true,
    env: { RECOVERY_STEP_RETRIES: '1', RECOVERY_FALLBACK_REGIONS: 'fra' },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;
  const afterEffect = (endpoint: string) => ({ endpoint, status: 503, phase: 'after', times: 1 });

  for (const endpoint of RELOCATION_CALLS)
    it(`relocation: ${endpoint}`, async () => {
      await relocate(t, call, { errors: [afterEffect(endpoint)] });
    });

  it('in place: start_machine', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, {
      errors: [afterEffect('start_machine')],
      stop_machines: [{ machine_id: instance.machineId }],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settleRecoveries(t);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'succeeded', inPlace: true });
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'running',
      machineId: instance.machineId,
    });
    await expectFlyMatchesRows(t);
  });

  it('the next region: delete_volume of a replacement volume its host cannot mount', async () => {
    const instance = await provisioned(t, call, { region: 'sin' });
    await t.deps.fly.createSnapshot(app, instance.volumeId);
    await new Promise((r) => setTimeout(r, 30));
    await flyFaults(t, {
      unreachable: { regions: ['sin'] },
      errors: [afterEffect('delete_volume')],
    });
    expect((await ringReconcile(t)).body.recoveriesStarted).toBe(1);
    await settleRecoveries(t);
    await flyFaults(t, null);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'succeeded', regionTried: 'fra', volumeSource: 'snapshot' });
    await expectFlyMatchesRows(t);
  });

  it('the clean-up after a failure: delete_volume', async () => {
    const instance = await provisioned(t, call);
    await flyFaults(t, {
      errors: [
        { endpoint: 'create_machine', status: 400, times: 1, error: 'invalid_argument: bad guest' },
        afterEffect('delete_volume'),
      ],
    });
    expect(
      (await call('POST', `/instances/${instance.id}/recover`, { relocate: true })).status,
    ).toBe(202);
    await settleRecoveries(t);
    await flyFaults(t, null);
    const [r] = await recoveriesOfInstance(t, instance.id);
    expect(r).toMatchObject({ status: 'failed', failedStep: 'volume_created' });
    expect(r?.lastError).not.toContain('clean-up failed');
    expect(await instanceRow(t, instance.id)).toMatchObject({
      status: 'stopped',
      machineId: instance.machineId,
      volumeId: instance.volumeId,
    });
    await expectFlyMatchesRows(t);
  });
});

describe('an answer held back past the client timeout after the effect', async () => {
  // Fly requests time out after 1 s; the simulator does the work, then holds the answer
  // 1.5 s (150 s × the 0.01 time scale).
  const t = await createTestApp({ serve: true, env: { FLY_REQUEST_TIMEOUT_SECONDS: '1' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  for (const endpoint of ['create_volume', 'create_machine', 'delete_machine', 'start_machine'])
    it(`relocation: ${endpoint}`, async () => {
      await relocate(t, call, { latency: [{ endpoint, ms: 150_000, phase: 'after' }] });
    });
});
