import { describe, expect, it } from 'vitest';
import { CONTROLLER_TOKEN_ENV, controllerToken } from '../../src/adapters/controller/token.ts';
import { createTestApp, TEST_CONTROLLER_SECRET } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, IMAGES, provisioned, seedCatalog, settleOperations } from '../helpers/fleet.ts';

describe('every machine the fleet builds carries its instance controller token', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const app = t.deps.config.fly.appName;

  it('on create (provision) and on update (version change), and never in the logs', async () => {
    const instance = await provisioned(t, call);
    const expected = await controllerToken(TEST_CONTROLLER_SECRET, instance.id);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    const created = await t.deps.fly.getMachine(app, instance.machineId);
    expect(created.config?.env?.[CONTROLLER_TOKEN_ENV]).toBe(expected);

    const res = await call('POST', `/instances/${instance.id}/version`, {
      imageTag: IMAGES.latest,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await settleOperations(t);
    const updated = await t.deps.fly.getMachine(app, instance.machineId);
    expect(updated.config?.image).toBe(IMAGES.latest);
    expect(updated.config?.env?.[CONTROLLER_TOKEN_ENV]).toBe(expected);

    // The controller answers with that token, through the app's own client.
    const target = { appName: app, machineId: instance.machineId, instanceId: instance.id };
    const { runId } = await t.deps.controller.startCliRun(target, { prompt: 'hello' });
    expect((await t.deps.controller.getCliRun(target, runId)).runId).toBe(runId);
    expect(t.logs.join('\n')).not.toContain(expected);
  });
});
