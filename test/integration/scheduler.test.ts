import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { instances, versionPins } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, IMAGES, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

describe('scheduled actions', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const inSeconds = (s: number) => new Date(t.clock.now().getTime() + s * 1000).toISOString();

  it('restarts three instances now: every target applied on a new machine version', async () => {
    const fleet = await fleetOf(t, 3);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'weekly restart',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      actionType: 'restart',
      counts: { total: 3 },
      stages: [{ index: 0, counts: { total: 3 } }],
    });
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action).toMatchObject({
      status: 'completed',
      counts: { total: 3, applied: 3, skipped: 0, failed: 0, cancelled: 0 },
    });
    expect(action.stages[0]).toMatchObject({ status: 'completed', counts: { applied: 3 } });
    expect(action.driftSeconds).toBeGreaterThanOrEqual(0);
    for (const f of fleet) {
      const detail = (await call('GET', `/instances/${f.id}`)).body;
      expect(detail.status).toBe('running');
      expect(detail.machineVersion).not.toBe(f.machineVersion);
      expect(detail.live.machine.instance_id).toBe(detail.machineVersion);
    }
    const targets = (await call('GET', `/scheduled-actions/${res.body.id}/targets?status=applied`))
      .body;
    expect(targets.items).toHaveLength(3);
  });

  it('fires no earlier than runAt, at the exact time', async () => {
    const fleet = await fleetOf(t, 1);
    const runAt = inSeconds(120);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [fleet[0]?.id] },
      runAt,
      reason: 'timed',
    });
    expect(res.status).toBe(201);
    await t.deliverDue();
    t.clock.set(new Date(Date.parse(runAt) - 1000));
    await t.deliverDue();
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body.status).toBe('scheduled');
    t.clock.set(new Date(runAt));
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${res.body.id}`)).body;
    expect(action.status).toBe('completed');
    expect(Date.parse(action.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
  });

  it('previews eligibility, exclusions by reason and stage sizes and times, writing nothing', async () => {
    const [a, b, c, d, e, f, g] = await fleetOf(t, 7);
    await t.db.db
      .update(instances)
      .set({ status: 'destroyed' })
      .where(eq(instances.id, a?.id ?? ''));
    await t.db.db
      .update(instances)
      .set({ status: 'stopped' })
      .where(eq(instances.id, f?.id ?? ''));
    await t.db.db
      .update(instances)
      .set({ status: 'restarting' })
      .where(eq(instances.id, g?.id ?? ''));
    await t.db.db.insert(versionPins).values({ instanceId: b?.id ?? '', imageTag: IMAGES.current });
    await t.db.db
      .update(instances)
      .set({ imageTag: IMAGES.latest })
      .where(eq(instances.id, c?.id ?? ''));
    const runAt = inSeconds(600);
    const body = {
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      instances: {
        ids: [
          a?.id,
          b?.id,
          c?.id,
          d?.id,
          d?.id,
          e?.id,
          f?.id,
          g?.id,
          '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11',
        ],
      },
      runAt,
      reason: 'preview',
      rollout: { stages: [50, 100], intervalMinutes: 30 },
    };
    const p = (await call('POST', '/scheduled-actions/preview', body)).body;
    expect(p.eligible).toBe(3);
    expect(p.busy).toEqual([g?.id]);
    expect(p.exclusions).toEqual({
      destroyed: [a?.id],
      stopped: [f?.id],
      pinned: [b?.id],
      alreadyOnTarget: [c?.id],
      alreadyScheduled: [],
      notFound: ['0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11'],
    });
    expect(p.stages).toEqual([
      { index: 0, size: 2, scheduledAt: new Date(runAt).toISOString() },
      { index: 1, size: 1, scheduledAt: new Date(Date.parse(runAt) + 30 * 60_000).toISOString() },
    ]);
    // A version change takes stopped instances when asked; a restart never does.
    const stoppedToo = (
      await call('POST', '/scheduled-actions/preview', { ...body, includeStopped: true })
    ).body;
    expect(stoppedToo).toMatchObject({ eligible: 4, exclusions: { stopped: [] } });
    const restart = (
      await call('POST', '/scheduled-actions/preview', {
        ...body,
        actionType: 'restart',
        targetImageTag: undefined,
        includeStopped: true,
      })
    ).body;
    expect(restart.exclusions.stopped).toEqual([f?.id]);
    expect(
      (await call('GET', '/scheduled-actions?limit=200')).body.items.some(
        (x: { reason: string }) => x.reason === 'preview',
      ),
    ).toBe(false);
    const withOverride = (
      await call('POST', '/scheduled-actions/preview', { ...body, overridePins: true })
    ).body;
    expect(withOverride.eligible).toBe(4);
  });

  it('rejects bad input with 4xx and writes nothing', async () => {
    const [f] = await fleetOf(t, 1);
    const base = { actionType: 'restart', instances: { ids: [f?.id] }, runAt: 'now', reason: 'x' };
    expect(
      (await call('POST', '/scheduled-actions', { ...base, runAt: inSeconds(30) })).body,
    ).toMatchObject({ status: 422, type: '/problems/run-at-too-soon' });
    expect(
      (
        await call('POST', '/scheduled-actions', {
          ...base,
          actionType: 'version_change',
          targetImageTag: 'registry.fly.io/agent:9',
        })
      ).body,
    ).toMatchObject({ status: 422, type: '/problems/unknown-image' });
    expect(
      (
        await call('POST', '/scheduled-actions', {
          ...base,
          actionType: 'version_change',
          targetImageTag: IMAGES.disabled,
        })
      ).body,
    ).toMatchObject({ status: 422, type: '/problems/image-disabled' });
    expect((await call('POST', '/scheduled-actions', { ...base, reason: '' })).status).toBe(400);
    expect(
      (await call('POST', '/scheduled-actions', { ...base, rollout: { stages: [50, 40] } })).status,
    ).toBe(400);
    expect(
      (
        await call('POST', '/scheduled-actions', {
          ...base,
          instances: { ids: ['0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11'] },
        })
      ).body,
    ).toMatchObject({ status: 422, type: '/problems/nothing-eligible' });
    const list = (await call('GET', `/instances/${f?.id}?live=false`)).body;
    expect(list.upcomingScheduledAction).toBeNull();
  });

  it('refuses an instance that already has a pending action (409 naming it), or skips it on request', async () => {
    const [f, g] = await fleetOf(t, 2);
    const first = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [f?.id] },
      runAt: inSeconds(3600),
      reason: 'first',
    });
    expect(first.status).toBe(201);
    const detail = (await call('GET', `/instances/${f?.id}?live=false`)).body;
    expect(detail.upcomingScheduledAction).toMatchObject({
      actionId: first.body.id,
      actionType: 'restart',
      batchSize: 1,
    });
    const second = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [f?.id, g?.id] },
      runAt: inSeconds(3600),
      reason: 'second',
    });
    expect(second.body).toMatchObject({
      status: 409,
      type: '/problems/already-scheduled',
      conflictingInstanceIds: [f?.id],
    });
    const skipping = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [f?.id, g?.id] },
      runAt: inSeconds(3600),
      reason: 'third',
      skipAlreadyScheduled: true,
    });
    expect(skipping.status).toBe(201);
    expect(skipping.body.counts.total).toBe(1);
    expect(skipping.body.exclusions.alreadyScheduled).toEqual([f?.id]);
    await call('POST', `/scheduled-actions/${first.body.id}/cancel`);
    await call('POST', `/scheduled-actions/${skipping.body.id}/cancel`);
  });

  it('selects by filter: region, version below, pin', async () => {
    const fleet = await fleetOf(t, 3, { region: 'syd', imageTag: IMAGES.old });
    await t.db.db
      .insert(versionPins)
      .values({ instanceId: fleet[0]?.id ?? '', imageTag: IMAGES.old });
    const p = (
      await call('POST', '/scheduled-actions/preview', {
        actionType: 'version_change',
        targetImageTag: IMAGES.latest,
        instances: { filter: { region: 'syd', versionBelow: IMAGES.current, hasPin: false } },
        runAt: 'now',
        reason: 'filter',
      })
    ).body;
    expect(p.eligible).toBe(2);
  });

  it('cancels one target and then the whole action; repeats are no-ops; all cancelled → cancelled', async () => {
    const fleet = await fleetOf(t, 3);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: inSeconds(3600),
      reason: 'to cancel',
    });
    const targets = (await call('GET', `/scheduled-actions/${res.body.id}/targets`)).body.items;
    const one = await call('POST', `/scheduled-action-targets/${targets[0].id}/cancel`);
    expect(one.body).toMatchObject({ status: 'cancelled' });
    expect(
      (await call('POST', `/scheduled-action-targets/${targets[0].id}/cancel`)).body,
    ).toMatchObject({ status: 'cancelled' });
    expect((await call('GET', `/scheduled-actions/${res.body.id}`)).body).toMatchObject({
      status: 'scheduled',
      counts: { cancelled: 1 },
    });
    const all = await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
    expect(all.body).toMatchObject({ status: 'cancelled', counts: { total: 3, cancelled: 3 } });
    expect((await call('POST', `/scheduled-actions/${res.body.id}/cancel`)).body).toMatchObject({
      status: 'cancelled',
      counts: { cancelled: 3 },
    });
    t.clock.advance(3601_000);
    await settleScheduler(t);
    expect((await call('GET', `/instances/${fleet[1]?.id}?live=false`)).body.machineVersion).toBe(
      fleet[1]?.machineVersion,
    );

    const other = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.slice(0, 2).map((f) => f.id) },
      runAt: inSeconds(3600),
      reason: 'cancel each',
    });
    for (const target of (await call('GET', `/scheduled-actions/${other.body.id}/targets`)).body
      .items)
      await call('POST', `/scheduled-action-targets/${target.id}/cancel`);
    expect((await call('GET', `/scheduled-actions/${other.body.id}`)).body.status).toBe(
      'cancelled',
    );
  });

  it('schedules 10,000 instances in one request', async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    await t.db.db.execute(
      (await import('drizzle-orm')).sql`
        with u as (insert into users (email) select ${tag} || '-' || g || '@bulk.test' from generate_series(1, 10000) g returning id)
        insert into instances (user_id, name, app_name, machine_id, region, image_tag, status)
        select id, ${tag} || '-' || row_number() over (), 'bulk', md5(id::text), 'bom', ${IMAGES.current}, 'running' from u`,
    );
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      instances: { filter: { region: 'bom' } },
      runAt: inSeconds(86_400),
      reason: 'bulk rollout',
      rollout: { stages: [1, 10, 100], intervalMinutes: 60, failureThresholdPercent: 5 },
    });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
    expect(res.body.counts.total).toBe(10_000);
    expect(res.body.stages.map((s: { counts: { total: number } }) => s.counts.total)).toEqual([
      100, 900, 9000,
    ]);
    await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
  }, 60_000);
});
