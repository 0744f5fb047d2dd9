import { describe, expect, it } from 'vitest';
import { OutsideIdError } from '../../src/adapters/outside-ids.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';

// An id we pass into another service's URL path never changes which path is called: a dot
// segment (`..`, encoded or not), a slash or a query is refused before anything is sent.
describe('ids passed into Fly, the instance controller and QStash paths', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const app = t.deps.config.fly.appName;
  const instance = await provisioned(t, api(t, key));

  const BAD = ['..', '.', '%2e%2e', '../apps', 'a/b', 'a?b=1', 'a#b', ''];

  it('Fly: machine, volume and app ids of the wrong shape are refused, nothing is sent', async () => {
    for (const id of BAD) {
      await expect(t.deps.fly.getMachine(app, id), id).rejects.toBeInstanceOf(OutsideIdError);
      await expect(t.deps.fly.getVolume(app, id), id).rejects.toBeInstanceOf(OutsideIdError);
      await expect(t.deps.fly.listMachines(id), id).rejects.toBeInstanceOf(OutsideIdError);
    }
    await expect(t.deps.fly.getApp('evil.example.com/x')).rejects.toBeInstanceOf(OutsideIdError);
    // The real ids still work.
    expect((await t.deps.fly.getMachine(app, instance.machineId)).id).toBe(instance.machineId);
  });

  it('controller: run and session ids and the app name (a host label) are refused', async () => {
    const target = { appName: app, machineId: instance.machineId, instanceId: instance.id };
    for (const id of BAD) {
      await expect(t.deps.controller.getCliRun(target, id), id).rejects.toBeInstanceOf(
        OutsideIdError,
      );
      await expect(t.deps.controller.cancelSession(target, id), id).rejects.toBeInstanceOf(
        OutsideIdError,
      );
    }
    await expect(
      t.deps.controller.getCliRun({ ...target, appName: 'evil.example.com/x#' }, 'run-1'),
    ).rejects.toBeInstanceOf(OutsideIdError);
  });

  it('QStash: a message or DLQ id of the wrong shape is refused', async () => {
    for (const id of [...BAD, 'msg_../x']) {
      await expect(t.deps.doorbells.cancel(id), id).rejects.toBeInstanceOf(OutsideIdError);
      await expect(t.deps.doorbellConsole.retryDeadLetter(id), id).rejects.toBeInstanceOf(
        OutsideIdError,
      );
    }
  });
});
