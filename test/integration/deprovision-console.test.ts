import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { settleDeprovisions } from '../helpers/deprovision.ts';
import { adminSession, get, makeApiKey, postForm } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { instanceRow } from '../helpers/recovery.ts';
import { until } from '../helpers/sim-controller.ts';

const decoded = (html: string) => html.replaceAll('&#39;', "'").replaceAll('&quot;', '"');

describe('the console deprovisions an instance after a confirmation naming what is destroyed', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const { cookie } = await adminSession(t);
  const app = t.deps.config.fly.appName;

  it('the confirmation names the machine and the volume, and says a volume with snapshots is kept', async () => {
    const plain = await provisioned(t, call);
    let html = decoded(await (await get(t, `/admin/instances/${plain.id}`, cookie)).text());
    expect(html).toContain(`action="/admin/instances/${plain.id}/deprovision"`);
    expect(html).toContain(`Machine ${plain.machineId} is destroyed.`);
    expect(html).toContain(`Volume ${plain.volumeId} has no snapshots: it is deleted now`);

    const kept = await provisioned(t, call);
    await t.deps.fly.createSnapshot(app, kept.volumeId);
    // The simulator takes the snapshot in (scaled) real time: wait until Fly lists it created.
    await until(
      'the snapshot to be created',
      () => t.deps.fly.listSnapshots(app, kept.volumeId),
      (snapshots) => snapshots.some((s) => s.status === 'created'),
    );
    html = decoded(await (await get(t, `/admin/instances/${kept.id}`, cookie)).text());
    const days = t.deps.config.recovery.retainDays;
    expect(html).toContain(`Volume ${kept.volumeId} has 1 snapshot: it is kept ${days} days`);
  });

  it('the button starts it; the panel shows its steps and the page the outcome', async () => {
    const i = await provisioned(t, call);
    const res = await postForm(t, `/admin/instances/${i.id}/deprovision`, cookie, {});
    expect(res.status).toBe(303);
    const fragment = await (await get(t, `/admin/instances/${i.id}/deprovision`, cookie)).text();
    expect(fragment).toContain('data-step="waiting"');
    expect(fragment).toContain('Destroy the machine');
    await settleDeprovisions(t);
    expect((await instanceRow(t, i.id)).status).toBe('destroyed');
    const page = await (await get(t, `/admin/instances/${i.id}`, cookie)).text();
    expect(page).toContain('Destroyed.');
    expect(page).toContain('Deprovision step');
  });
});
