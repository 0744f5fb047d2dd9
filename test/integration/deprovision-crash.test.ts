import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { crashSwitch } from '../helpers/crash.ts';
import { deprovisionsOf, settleDeprovisions } from '../helpers/deprovision.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { instanceRow } from '../helpers/recovery.ts';
import { expectFlyMatchesRows } from '../helpers/recovery-world.ts';

describe('deprovision crash safety: a crash after each Fly call, or its answer lost, resumes to one outcome', async () => {
  // Armed by a test: the next call of this Fly method is made, then the process "dies"
  // before the step can write what happened (a non-Fly error out of the handler).
  const crash = crashSwitch();
  const t = await createTestApp({
    serve: true,
    env: { FLY_REQUEST_TIMEOUT_SECONDS: '1' },
    wrapFly: crash.wrap,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  async function expectDestroyedOnce(instanceId: string, volumeId: string) {
    const [d, ...more] = await deprovisionsOf(t, instanceId);
    expect(more).toEqual([]);
    expect(d, JSON.stringify(d)).toMatchObject({
      step: 'destroyed',
      status: 'succeeded',
      volumeOutcome: expect.stringMatching(/deleted|gone/),
    });
    expect(await instanceRow(t, instanceId)).toMatchObject({ status: 'destroyed', holdId: null });
    expect((await t.deps.fly.getVolume(app, volumeId)).state).toMatch(/destroy/);
    await expectFlyMatchesRows(t);
  }

  for (const method of [
    'getMachine',
    'deleteMachine',
    'listSnapshots',
    'getVolume',
    'deleteVolume',
  ] as const)
    it(`a crash after ${method}`, async () => {
      const i = await provisioned(t, call);
      const before = crash.crashes;
      crash.arm(method);
      onTestFinished(() => {
        crash.arm(null);
      });
      expect((await call('DELETE', `/instances/${i.id}`)).status).toBe(202);
      await settleDeprovisions(t, { stepMs: 20_000 });
      expect(crash.crashes).toBe(before + 1);
      await expectDestroyedOnce(i.id, i.volumeId);
    });

  for (const endpoint of ['delete_machine', 'delete_volume'] as const)
    for (const phase of ['before', 'after'] as const)
      it(`a 503 ${phase} ${endpoint} (answer lost) is settled by looking`, async () => {
        const i = await provisioned(t, call);
        await flyFaults(t, { errors: [{ endpoint, status: 503, times: 1, phase }] });
        onTestFinished(() => flyFaults(t, null));
        expect((await call('DELETE', `/instances/${i.id}`)).status).toBe(202);
        await settleDeprovisions(t, { stepMs: 20_000 });
        await expectDestroyedOnce(i.id, i.volumeId);
      });

  it('a timeout after destroying the machine (the answer never came) is settled by looking', async () => {
    const i = await provisioned(t, call);
    // 150 s of simulated latency after the effect is 1.5 s here, past the 1 s timeout.
    await flyFaults(t, { latency: [{ endpoint: 'delete_machine', ms: 150_000, phase: 'after' }] });
    onTestFinished(() => flyFaults(t, null));
    expect((await call('DELETE', `/instances/${i.id}`)).status).toBe(202);
    await settleDeprovisions(t, { stepMs: 20_000 });
    await flyFaults(t, null);
    await expectDestroyedOnce(i.id, i.volumeId);
  });
});
