import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, follow, get, makeApiKey, postForm } from '../helpers/factories.ts';
import { api, flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { recoveriesOfInstance, settleRecoveries } from '../helpers/recovery.ts';

describe('recovery in the console', async () => {
  const t = await createTestApp({ serve: true, env: { RECOVERY_FALLBACK_REGIONS: 'fra' } });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const { cookie } = await adminSession(t);
  const app = t.deps.config.fly.appName;

  it('Reconcile now (audited) begins the recovery; the instance card follows it; the pages show its steps', async () => {
    const instance = await provisioned(t, call, { region: 'sin' });
    await t.deps.fly.createSnapshot(app, instance.volumeId);
    await new Promise((r) => setTimeout(r, 30));
    await flyFaults(t, { stop_machines: [{ machine_id: instance.machineId }] });
    const res = await postForm(t, '/admin/recoveries/reconcile', cookie, {});
    const page = await follow(t, res, cookie);
    expect(page.location).toBe('/admin/recoveries');
    expect(page.html).toContain('1 recovery begun');
    expect(page.html).toContain('machine stopped');
    const audit = await t.db.db.select().from(auditLog);
    expect(audit.some((a) => a.action === 'recovery.reconcile')).toBe(true);

    const card = await (
      await get(t, `/admin/instances/${instance.id}/recovery`, cookie, { 'HX-Request': 'true' })
    ).text();
    expect(card).toMatch(/^<div id="recovery"/);
    expect(card).toContain('hx-trigger="every 2s"');
    await settleRecoveries(t);
    const done = await get(t, `/admin/instances/${instance.id}/recovery`, cookie, {
      'HX-Request': 'true',
    });
    expect(done.headers.get('hx-refresh')).toBe('true');
    const [r] = await recoveriesOfInstance(t, instance.id);
    const detail = await (await get(t, `/admin/recoveries/${r?.id}`, cookie)).text();
    expect(detail).toContain('Start in place');
    expect(detail).toContain('started in place');
    expect(detail).toMatch(/\d+(\.\d)? (ms|s)/);
    // A succeeded recovery's last note is no error: not in the Error column, not an alert.
    expect(r?.status).toBe('succeeded');
    const list = parse(await (await get(t, '/admin/recoveries', cookie)).text());
    const headers = list.querySelectorAll('thead th').map((th) => th.text.trim());
    const row = list
      .querySelectorAll('tbody tr')
      .find((tr) => tr.querySelector(`a[href="/admin/recoveries/${r?.id}"]`));
    expect(row?.querySelectorAll('td')[headers.indexOf('Error')]?.text.trim()).toBe('');
    expect(parse(detail).querySelector('[role=alert]')?.text ?? '').not.toContain(
      'started in place',
    );
  });

  it('Recover now asks first; a retained volume is listed with its deadline and can be deleted now', async () => {
    const instance = await provisioned(t, call, { region: 'syd' });
    await t.deps.fly.createSnapshot(app, instance.volumeId);
    await new Promise((r) => setTimeout(r, 30));
    const html = await (await get(t, `/admin/instances/${instance.id}`, cookie)).text();
    expect(html).toContain('data-confirm="Recover');
    expect(html).toContain('This instance has not been recovered.');
    await flyFaults(t, { unreachable: { machine_ids: [instance.machineId] } });
    const res = await postForm(t, `/admin/instances/${instance.id}/recover`, cookie, {});
    expect((await follow(t, res, cookie)).html).toContain('Recovery started.');
    await settleRecoveries(t);
    await flyFaults(t, null);
    const list = await (await get(t, '/admin/recoveries?status=succeeded', cookie)).text();
    expect(list).toContain('Retained volumes');
    expect(list).toContain(instance.volumeId);
    const page = await (await get(t, `/admin/instances/${instance.id}`, cookie)).text();
    expect(page).toContain('Delete now');
    expect(page).toContain(`data-confirm="Delete volume ${instance.volumeId} now?"`);
    const del = await postForm(
      t,
      `/admin/instances/${instance.id}/retained-volume/delete`,
      cookie,
      {},
    );
    expect((await follow(t, del, cookie)).html).toContain('The retained old volume was deleted.');
    const empty = await (await get(t, '/admin/recoveries?q=nobody-matches-this', cookie)).text();
    expect(empty).toContain('No recovery matches these filters.');
  });
});
