import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, cliRuns, instanceEvents } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { sweepNow } from '../helpers/callbacks.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { deprovisionsOf, settleDeprovisions } from '../helpers/deprovision.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { instanceRow } from '../helpers/recovery.ts';
import { expectFlyMatchesRows } from '../helpers/recovery-world.ts';

describe('deprovisioning an instance through the admin and platform APIs', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);
  const app = t.deps.config.fly.appName;

  it('both routes are in the OpenAPI document with their problems', async () => {
    const doc = await (await t.app.request(t.url('/api/openapi.json'))).json();
    const admin = doc.paths['/admin/instances/{id}']?.delete;
    const user = doc.paths['/platform/users/{userId}/instances/{id}']?.delete;
    expect(Object.keys(admin.responses)).toEqual(expect.arrayContaining(['202', '404', '409']));
    expect(Object.keys(user.responses)).toEqual(expect.arrayContaining(['202', '404', '409']));
    expect(admin.description).toContain('RECOVERY_RETAIN_DAYS');
  });

  it('20 concurrent deletes make one deprovision; machine and volume (no snapshots) are gone, the instance destroyed', async () => {
    const i = await provisioned(t, call);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call('DELETE', `/instances/${i.id}`)),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(202);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await deprovisionsOf(t, i.id)).toHaveLength(1);
    expect((await instanceRow(t, i.id)).status).toBe('destroying');
    await settleDeprovisions(t);
    const again = await call('DELETE', `/instances/${i.id}`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      id: answers[0]?.body.id,
      step: 'destroyed',
      done: true,
      machineId: i.machineId,
      volumeId: i.volumeId,
      volumeOutcome: 'deleted',
    });
    expect(await instanceRow(t, i.id)).toMatchObject({
      status: 'destroyed',
      holdKind: null,
      holdId: null,
    });
    expect((await t.deps.fly.getVolume(app, i.volumeId)).state).toMatch(/destroy/);
    await expectFlyMatchesRows(t);
    const audits = await t.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'instance.deprovision'));
    expect(audits.filter((a) => a.subjectId === i.id)).toHaveLength(1);
    const events = await t.db.db
      .select({ type: instanceEvents.type, payload: instanceEvents.payload })
      .from(instanceEvents)
      .where(eq(instanceEvents.instanceId, i.id));
    const steps = events.filter((e) => e.type === 'deprovision_step').map((e) => e.payload.step);
    expect(steps.sort()).toEqual(['deleting_volume', 'destroying_machine', 'ending_work'].sort());
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['deprovision_requested', 'deprovisioned']),
    );
    // A destroyed instance refuses actions.
    expect((await call('POST', `/instances/${i.id}/restart`)).status).toBe(409);
  });

  it('a volume with a snapshot is kept RECOVERY_RETAIN_DAYS, then deleted by the sweep', async () => {
    const i = await provisioned(t, call);
    await t.deps.fly.createSnapshot(app, i.volumeId);
    t.clock.advance(60_000);
    const res = await call('DELETE', `/instances/${i.id}`);
    expect(res.status).toBe(202);
    await settleDeprovisions(t);
    const [d] = await deprovisionsOf(t, i.id);
    expect(d).toMatchObject({ step: 'retaining', volumeOutcome: 'retained', status: 'pending' });
    expect((await instanceRow(t, i.id)).status).toBe('destroyed');
    expect((await t.deps.fly.getVolume(app, i.volumeId)).state).not.toMatch(/destroy/);
    await expectFlyMatchesRows(t);
    const days = t.deps.config.recovery.retainDays;
    expect(d?.retainUntil?.getTime()).toBe((d?.destroyedAt?.getTime() ?? 0) + days * 86_400_000);
    t.clock.advance(days * 86_400_000 + 60_000);
    await sweepAndDeliver();
    const [after] = await deprovisionsOf(t, i.id);
    expect(after).toMatchObject({
      step: 'destroyed',
      status: 'succeeded',
      volumeOutcome: 'deleted',
    });
    expect((await t.deps.fly.getVolume(app, i.volumeId)).state).toMatch(/destroy/);
    await expectFlyMatchesRows(t);
  });

  async function sweepAndDeliver() {
    await sweepNow(t);
    await t.deliverDue();
  }

  it('the platform route deprovisions only the user’s own instance (404 otherwise)', async () => {
    const i = await provisioned(t, call);
    const row = await instanceRow(t, i.id);
    const other = crypto.randomUUID();
    const refused = await platform('DELETE', `/users/${other}/instances/${i.id}`);
    expect(refused.status).toBe(404);
    expect(await deprovisionsOf(t, i.id)).toHaveLength(0);
    const ok = await platform('DELETE', `/users/${row.userId}/instances/${i.id}`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    await settleDeprovisions(t);
    expect((await instanceRow(t, i.id)).status).toBe('destroyed');
  });

  it('the platform route is 409 naming the holder while a CLI run is live; the admin route cancels the run', async () => {
    const i = await provisioned(t, call);
    const row = await instanceRow(t, i.id);
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const busy = await platform('DELETE', `/users/${row.userId}/instances/${i.id}`);
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({
      type: expect.stringContaining('instance-busy'),
      holder: { kind: 'cli_run', id: run.body.id },
    });
    expect(await deprovisionsOf(t, i.id)).toHaveLength(0);
    const res = await call('DELETE', `/instances/${i.id}`);
    expect(res.status).toBe(202);
    // The hold passed to the deprovision at once.
    expect(await instanceRow(t, i.id)).toMatchObject({
      status: 'destroying',
      holdKind: 'deprovision',
      holdId: res.body.id,
    });
    await settleDeprovisions(t);
    await settleRuns(t);
    const [ended] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, run.body.id));
    expect(ended?.status).toBe('cancelled');
    expect(ended?.lastError).toContain('the instance is being deprovisioned');
    expect((await instanceRow(t, i.id)).status).toBe('destroyed');
    await expectFlyMatchesRows(t);
  });

  it('other jobs give way: actions, recoveries and CLI runs are 409 while it is destroying', async () => {
    const i = await provisioned(t, call);
    await call('DELETE', `/instances/${i.id}`);
    const restart = await call('POST', `/instances/${i.id}/restart`);
    expect(restart.status).toBe(409);
    expect(restart.body.holder).toMatchObject({ kind: 'deprovision' });
    expect((await call('POST', `/instances/${i.id}/recover`, {})).status).toBe(409);
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'x' });
    expect(run.status).toBe(409);
    await settleDeprovisions(t);
  });

  it('an unknown instance is 404', async () => {
    expect((await call('DELETE', `/instances/${crypto.randomUUID()}`)).status).toBe(404);
  });
});
