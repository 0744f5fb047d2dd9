import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  auditLog,
  cliRuns,
  instanceEvents,
  instances,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { CLI_RUNS_PATH } from '../../src/cli-runs/model.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, IMAGES, seedCatalog, settleScheduler } from '../helpers/fleet.ts';
import { qstashSignature } from '../helpers/signing.ts';

describe('CLI runs through the platform and admin APIs', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);

  it('every CLI-run route is in the OpenAPI document with its problem responses', async () => {
    const doc = await (await t.app.request(t.url('/api/openapi.json'))).json();
    const op = (path: string, method: string) => doc.paths[path]?.[method]?.responses ?? {};
    for (const surface of ['platform', 'admin']) {
      expect(Object.keys(op(`/${surface}/instances/{id}/cli-runs`, 'post'))).toEqual(
        expect.arrayContaining(['201', '400', '401', '404', '409', '502']),
      );
      // A cancel never fails because of the controller (docs/seams.md): no 409, no 502.
      const cancel = Object.keys(op(`/${surface}/cli-runs/{runId}/cancel`, 'post'));
      expect(cancel).toEqual(expect.arrayContaining(['200', '404']));
      expect(cancel).not.toContain('502');
      for (const path of [
        '/instances/{id}/cli-runs',
        '/cli-runs/{runId}',
        '/cli-runs/{runId}/output',
      ])
        expect(op(`/${surface}${path}`, 'get')['200'], `${surface}${path}`).toBeTruthy();
    }
    expect(op('/admin/cli-runs', 'get')['200']).toBeTruthy();
    expect(op('/platform/cli-runs', 'get')['200']).toBeUndefined();
  });

  it('a user run starts, is followed by doorbells to completion, and keeps its output', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=10s lines=20\nrepair the agent',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      instanceId: i.id,
      status: 'running',
      initiatedBy: 'user',
      initiatedByAdmin: null,
      exitCode: null,
    });
    await settleRuns(t);
    const done = await platform('GET', `/cli-runs/${res.body.id}`);
    expect(done.body).toMatchObject({ status: 'completed', exitCode: 0, lastError: null });
    expect(done.body.output.trimEnd().split('\n')).toHaveLength(20);
    expect(done.body.outputSize).toBe(new TextEncoder().encode(done.body.output).length);
    const later = await platform(
      'GET',
      `/cli-runs/${res.body.id}/output?after=${done.body.outputSize - 10}`,
    );
    expect(later.body).toMatchObject({ size: done.body.outputSize, truncated: false });
    expect(later.body.text).toHaveLength(10);
    // The timeline says so; a user's run is audited with the user it was started for.
    const events = await t.db.db
      .select({ type: instanceEvents.type })
      .from(instanceEvents)
      .where(eq(instanceEvents.instanceId, i.id));
    expect(events.map((e) => e.type).sort()).toEqual(['cli_run_completed', 'cli_run_started']);
    const audited = await t.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.subjectId, res.body.id));
    expect(audited.map((a) => [a.action, a.payload.initiatedBy])).toEqual([
      ['cli_run.start', 'user'],
    ]);
    expect(audited[0]?.payload.forUser).toEqual(expect.any(String));
    // The instance is released.
    const [row] = await t.db.db.select().from(instances).where(eq(instances.id, i.id));
    expect(row?.holdId).toBeNull();
  });

  it('a failing CLI ends `failed` with its exit code; the list is newest first and paginated', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const first = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim exit=3' });
    await settleRuns(t);
    const second = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'again' });
    expect(second.status).toBe(201);
    await settleRuns(t);
    const failed = await platform('GET', `/cli-runs/${first.body.id}`);
    expect(failed.body).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(failed.body.lastError).toContain('code 3');
    const page1 = await platform('GET', `/instances/${i.id}/cli-runs?limit=1`);
    expect(page1.body.items.map((r: { id: string }) => r.id)).toEqual([second.body.id]);
    const page2 = await platform(
      'GET',
      `/instances/${i.id}/cli-runs?limit=1&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('a second start while one is live is 409 naming the live run; only running instances accept', async () => {
    const [i, stopped] = await fleetOf(t, 2);
    if (!i || !stopped) throw new Error('no instance');
    const live = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    const again = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'x' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/cli-run-live', liveRunId: live.body.id });
    await t.db.db.update(instances).set({ status: 'stopped' }).where(eq(instances.id, stopped.id));
    const notRunning = await platform('POST', `/instances/${stopped.id}/cli-runs`, { prompt: 'x' });
    expect(notRunning.status).toBe(409);
    expect(notRunning.body).toMatchObject({
      type: '/problems/instance-not-running',
      instanceStatus: 'stopped',
    });
    expect(notRunning.body.detail).toContain('stopped');
    const unknown = await platform('POST', `/instances/${crypto.randomUUID()}/cli-runs`, {
      prompt: 'x',
    });
    expect(unknown.status).toBe(404);
    const unknownList = await platform('GET', `/instances/${crypto.randomUUID()}/cli-runs`);
    expect(unknownList.status).toBe(404);
    expect(unknownList.body.type).toBe('/problems/not-found');
    await platform('POST', `/cli-runs/${live.body.id}/cancel`);
  });

  it('bad input is a 400 that writes nothing', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    for (const body of [
      {},
      { prompt: '' },
      { prompt: 'x'.repeat(10_001) },
      { prompt: 'x', extra: 1 },
    ]) {
      const res = await platform('POST', `/instances/${i.id}/cli-runs`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const rows = await t.db.db.select().from(cliRuns).where(eq(cliRuns.instanceId, i.id));
    expect(rows).toEqual([]);
    expect((await platform('GET', '/cli-runs/not-a-uuid')).status).toBe(400);
    expect((await platform('GET', `/cli-runs/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it('an instance with a live run rejects restart, version change and stop with 409 naming the run', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' });
    expect(run.status).toBe(201);
    for (const [path, body] of [
      ['restart', undefined],
      ['version', { imageTag: IMAGES.latest }],
      ['stop', undefined],
    ] as const) {
      const res = await admin('POST', `/instances/${i.id}/${path}`, body);
      expect(res.status, path).toBe(409);
      expect(res.body).toMatchObject({ type: '/problems/instance-busy', liveRunId: run.body.id });
      expect(res.body.detail).toContain(run.body.id);
    }
    const cancelled = await admin('POST', `/cli-runs/${run.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect((await admin('POST', `/instances/${i.id}/restart`)).status).toBe(202);
  });

  it('admin runs: initiatedBy admin, audited start and cancel, filters, search and the Admin list', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await admin('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h\nfind the zebra-needle',
    });
    expect(run.body).toMatchObject({ initiatedBy: 'admin', initiatedByAdmin: { id: null } });
    expect(run.body.initiatedByAdmin.label).toBeTruthy();
    // The platform never sees an admin's run at all (platform-tenancy.test.ts).
    expect((await platform('GET', `/cli-runs/${run.body.id}`)).status).toBe(404);
    await admin('POST', `/cli-runs/${run.body.id}/cancel`);
    const actions = await t.db.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.subjectType, 'cli_run'), eq(auditLog.subjectId, run.body.id)));
    expect(actions.map((a) => a.action).sort()).toEqual(['cli_run.cancel', 'cli_run.start']);
    const found = await admin('GET', '/cli-runs?q=ZEBRA-needle&initiatedBy=admin&status=cancelled');
    expect(found.body.items.map((r: { id: string }) => r.id)).toEqual([run.body.id]);
    expect(found.body.total).toBe(1);
    const byInstance = await admin('GET', `/cli-runs?q=${i.id}`);
    expect(byInstance.body.items.map((r: { id: string }) => r.id)).toContain(run.body.id);
    expect((await admin('GET', '/cli-runs?initiatedBy=user&q=zebra-needle')).body.items).toEqual(
      [],
    );
    expect((await admin('GET', '/cli-runs?status=exploded')).status).toBe(400);
    expect((await admin('GET', '/cli-runs?sort=status&cursor=garbage')).status).toBe(400);
    const sorted = await admin('GET', '/cli-runs?sort=instance&limit=2');
    expect(sorted.status).toBe(200);
    const next = await admin(
      'GET',
      `/cli-runs?sort=instance&limit=2&cursor=${sorted.body.nextCursor}`,
    );
    expect(next.status).toBe(200);
    const ids = [...sorted.body.items, ...next.body.items].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a scheduled restart meeting a live run backs off like a busy instance, then applies', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' });
    const scheduled = await api(t, (await makeApiKey(t, 'admin')).key)(
      'POST',
      '/scheduled-actions',
      {
        actionType: 'restart',
        instances: { ids: [i.id] },
        runAt: 'now',
        reason: 'weekly restart',
      },
    );
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(201);
    await t.deliverDue();
    const targets = await admin('GET', `/scheduled-actions/${scheduled.body.id}/targets`);
    expect(targets.body.items[0]).toMatchObject({ status: 'pending' });
    // Deferred as busy (claimed once and given back), not merely not reached yet.
    const [target] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.instanceId, i.id));
    expect(target?.busySince).not.toBeNull();
    await admin('POST', `/cli-runs/${run.body.id}/cancel`);
    await settleScheduler(t);
    const after = await admin('GET', `/scheduled-actions/${scheduled.body.id}/targets`);
    expect(after.body.items[0]).toMatchObject({ status: 'applied' });
  });

  it('a duplicate follow doorbell polls once; a replayed one after the end changes nothing', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    t.clock.advance(2_000);
    const url = t.url(CLI_RUNS_PATH);
    const body = JSON.stringify({ runId: run.body.id });
    const ring = async (id: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Upstash-Signature': await qstashSignature({ url, body }),
          'Upstash-Message-Id': id,
        },
        body,
      });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, n) => ring(`msg_dup_${n}`)));
    const results = await Promise.all(answers.map((r) => r.json()));
    expect(results.filter((r) => r.run === 'continued')).toHaveLength(1);
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, run.body.id));
    expect(row?.attempts).toBe(2);
    await platform('POST', `/cli-runs/${run.body.id}/cancel`);
    const late = await (await ring('msg_late')).json();
    expect(late).toMatchObject({ run: 'skipped' });
  });
});
