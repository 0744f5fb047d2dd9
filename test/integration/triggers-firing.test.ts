import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agents, instances } from '../../db/schema/index.ts';
import { FIRES_PATH } from '../../src/triggers/model.ts';
import { agentRig } from '../helpers/agents.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { publishedFor, sweepNow } from '../helpers/callbacks.ts';
import { fakeController } from '../helpers/fake-controller.ts';

const T0 = new Date('2026-12-02T10:01:00Z');

describe('firing agents at their fire times', async () => {
  const clock = testClock(T0);
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const rig = await agentRig(t);
  const at = (iso: string) => clock.set(new Date(iso));

  it('a doorbell at the fire time starts one cron session, writes last_fired_at and rings the next fire time', async () => {
    at('2026-12-02T10:01:00Z');
    const agent = await rig.create();
    expect(agent.nextFireAt).toBe('2026-12-02T10:05:00.000Z');
    const rung = await publishedFor(t, FIRES_PATH, agent.id);
    expect(rung.map((m) => m.notBefore?.toISOString())).toContain('2026-12-02T10:05:00.000Z');

    at('2026-12-02T10:05:00.300Z');
    const res = await rig.fire(agent.id, '2026-12-02T10:05:00Z');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'fired',
      started: 1,
      next: '2026-12-02T10:10:00.000Z',
    });
    const [session] = await rig.sessionsOf(agent.id);
    expect(session).toMatchObject({ trigger: 'cron', status: 'ready', reason: null });
    expect(session?.scheduledFor.toISOString()).toBe('2026-12-02T10:05:00.000Z');
    expect(session?.controllerSessionId).toMatch(/^cs_/);
    const row = await rig.agentRow(agent.id);
    expect(row.lastFiredAt?.toISOString()).toBe('2026-12-02T10:05:00.000Z');
    expect(row.nextFireAt?.toISOString()).toBe('2026-12-02T10:10:00.000Z');
    const next = await publishedFor(t, FIRES_PATH, agent.id);
    expect(next.map((m) => m.notBefore?.toISOString())).toContain('2026-12-02T10:10:00.000Z');
  });

  it('duplicate doorbells for one fire time, at once and later, start one session', async () => {
    at('2026-12-02T10:06:00Z');
    const agent = await rig.create({ overlapPolicy: 'allow_all' });
    at('2026-12-02T10:10:00.100Z');
    const before = fake.calls.start;
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => rig.fire(agent.id, '2026-12-02T10:10:00Z')),
    );
    expect(runs.every((r) => r.status === 200)).toBe(true);
    expect(runs.filter((r) => r.body.outcome === 'fired')).toHaveLength(1);
    const again = await rig.fire(agent.id, '2026-12-02T10:10:00Z', 'msg_replayed');
    expect(again.body).toMatchObject({ outcome: 'nothing', reason: 'not_due' });
    expect(await rig.sessionsOf(agent.id)).toHaveLength(1);
    expect(fake.calls.start - before).toBe(1);
  });

  it('regression: a fire skipped by the overlap policy records a skipped session and leaves last_fired_at', async () => {
    at('2026-12-02T10:11:00Z');
    const agent = await rig.create({ overlapPolicy: 'skip' });
    at('2026-12-02T10:15:00Z');
    await rig.fire(agent.id, '2026-12-02T10:15:00Z');
    at('2026-12-02T10:20:00Z');
    const res = await rig.fire(agent.id, '2026-12-02T10:20:00Z');
    expect(res.body).toMatchObject({ outcome: 'fired', started: 0, skipped: 1 });
    const sessions = await rig.sessionsOf(agent.id);
    expect(sessions.map((s) => [s.status, s.reason])).toEqual([
      ['ready', null],
      ['skipped', 'overlap'],
    ]);
    const row = await rig.agentRow(agent.id);
    expect(row.lastFiredAt?.toISOString()).toBe('2026-12-02T10:15:00.000Z');
    expect(row.lastOutcome).toBe('skipped: overlap');
    expect(row.nextFireAt?.toISOString()).toBe('2026-12-02T10:25:00.000Z');
  });

  it('regression: an agent whose expression or zone no longer parses is disabled with the reason and never fired', async () => {
    at('2026-12-02T10:21:00Z');
    const a = await rig.create();
    const b = await rig.create();
    // As if stored by an older version, or the zone dropped from the platform's data.
    await t.db.db.update(agents).set({ cronExpression: '0 0 9 * * *' }).where(eq(agents.id, a.id));
    await t.db.db.update(agents).set({ timeZone: 'Mars/Olympus' }).where(eq(agents.id, b.id));
    at('2026-12-02T10:25:00Z');
    expect((await rig.fire(a.id, '2026-12-02T10:25:00Z')).body).toMatchObject({
      outcome: 'disabled',
    });
    at('2026-12-02T10:26:00Z');
    await sweepNow(t);
    for (const id of [a.id, b.id]) {
      const row = await rig.agentRow(id);
      expect(row.enabled).toBe(false);
      expect(row.nextFireAt).toBeNull();
      expect(await rig.sessionsOf(id)).toEqual([]);
    }
    expect((await rig.agentRow(a.id)).disabledReason).toBe(
      'Disabled: cron expression: 6 fields given; expected 5 (minute hour day-of-month month day-of-week)',
    );
    expect((await rig.agentRow(b.id)).disabledReason).toMatch(
      /^Disabled: time zone: "Mars\/Olympus"/,
    );
    at('2026-12-02T10:31:00Z');
    await sweepNow(t);
    await rig.fire(a.id, '2026-12-02T10:30:00Z');
    expect([...fake.sessionsOf(a.id), ...fake.sessionsOf(b.id)]).toEqual([]);
  });

  it('an instance that is not running gives a skipped session with the reason, and no last_fired_at', async () => {
    at('2026-12-02T10:26:00Z');
    const agent = await rig.create();
    await t.db.db
      .update(instances)
      .set({ status: 'stopped' })
      .where(eq(instances.id, rig.instance.id));
    at('2026-12-02T10:30:00Z');
    await rig.fire(agent.id, '2026-12-02T10:30:00Z');
    await t.db.db
      .update(instances)
      .set({ status: 'running' })
      .where(eq(instances.id, rig.instance.id));
    // The controller itself can say so too (its machine stopped under us).
    fake.stopInstance(rig.instance.id);
    at('2026-12-02T10:35:00Z');
    await rig.fire(agent.id, '2026-12-02T10:35:00Z');
    fake.startInstance(rig.instance.id);
    const sessions = await rig.sessionsOf(agent.id);
    expect(sessions.map((s) => [s.status, s.reason])).toEqual([
      ['skipped', 'instance_not_running'],
      ['skipped', 'instance_not_running'],
    ]);
    expect(sessions[0]?.lastError).toBe('the instance is stopped');
    expect((await rig.agentRow(agent.id)).lastFiredAt).toBeNull();
    expect((await rig.agentRow(agent.id)).lastOutcome).toBe('skipped: instance_not_running');
  });

  it('a doorbell for a fire time the agent no longer has does nothing; an early one rings again for its time', async () => {
    const f2 = fakeController();
    const t2 = await createTestApp({ serve: true, clock, wrapController: () => f2.client });
    const r2 = await agentRig(t2);
    at('2026-12-02T10:36:00Z');
    const agent = await r2.create({ cronExpression: '0 * * * *' });
    expect(agent.nextFireAt).toBe('2026-12-02T11:00:00.000Z');
    const edited = await r2.call('PATCH', `/agents/${agent.id}`, { cronExpression: '30 * * * *' });
    expect(edited.body.nextFireAt).toBe('2026-12-02T11:30:00.000Z');
    at('2026-12-02T11:00:00Z');
    expect((await r2.fire(agent.id, '2026-12-02T11:00:00Z')).body).toMatchObject({
      outcome: 'nothing',
      reason: 'not_due',
    });
    at('2026-12-02T11:29:00Z');
    expect((await r2.fire(agent.id, '2026-12-02T11:30:00Z')).body).toMatchObject({
      outcome: 'early',
    });
    const early = await publishedFor(t2, FIRES_PATH, agent.id);
    expect(
      early.filter((m) => m.notBefore?.toISOString() === '2026-12-02T11:30:00.000Z').length,
    ).toBeGreaterThan(0);
    expect(await r2.sessionsOf(agent.id)).toEqual([]);
    expect(f2.calls.start).toBe(0);
  });

  it('a lost doorbell is made up by the sweep, once', async () => {
    at('2026-12-02T10:41:00Z');
    const agent = await rig.create({ overlapPolicy: 'allow_all' });
    at('2026-12-02T10:45:40Z');
    const sweeps = await Promise.all([sweepNow(t), sweepNow(t)]);
    expect(sweeps.every((s) => typeof s.found === 'number')).toBe(true);
    await rig.fire(agent.id, '2026-12-02T10:45:00Z');
    const sessions = await rig.sessionsOf(agent.id);
    expect(sessions.map((s) => s.scheduledFor.toISOString())).toEqual(['2026-12-02T10:45:00.000Z']);
  });

  it('a failed start is tried again after a backoff; one that acted but timed out is replayed by its key, not started twice', async () => {
    at('2026-12-02T10:46:00Z');
    const agent = await rig.create({ overlapPolicy: 'allow_all' });
    fake.failNextStarts(1);
    at('2026-12-02T10:50:00Z');
    await rig.fire(agent.id, '2026-12-02T10:50:00Z');
    const [waiting] = await rig.sessionsOf(agent.id);
    // A 500 may follow the effect: recorded as unknown, never as failed.
    expect(waiting).toMatchObject({
      status: 'creating',
      lastError:
        'start outcome unknown: controller answered 500; it is sent again with the same Idempotency-Key',
    });
    at('2026-12-02T10:50:03Z');
    await rig.step(waiting?.id ?? '');
    const [started] = await rig.sessionsOf(agent.id);
    expect(started?.status).toBe('ready');
    expect((await rig.agentRow(agent.id)).lastFiredAt?.toISOString()).toBe(
      '2026-12-02T10:50:00.000Z',
    );
    // The controller starts the next one but its answer is lost: the retry sends the same
    // Idempotency-Key (the session's row id) and gets that session back.
    fake.timeOutNextStarts(1);
    at('2026-12-02T10:55:00Z');
    await rig.fire(agent.id, '2026-12-02T10:55:00Z');
    const timedOut = (await rig.sessionsOf(agent.id))[1];
    expect(timedOut).toMatchObject({ status: 'creating', controllerSessionId: null });
    at('2026-12-02T10:55:03Z');
    await rig.step(timedOut?.id ?? '');
    const retried = (await rig.sessionsOf(agent.id))[1];
    expect(retried?.status).toBe('ready');
    expect(fake.sessionsOf(agent.id).map((s) => s.sessionId)).toEqual([
      started?.controllerSessionId,
      retried?.controllerSessionId,
    ]);
  });

  it('a started session is followed to completed or failed, polling with backoff', async () => {
    at('2026-12-02T10:51:00Z');
    const agent = await rig.create({ overlapPolicy: 'allow_all' });
    at('2026-12-02T10:55:00Z');
    await rig.fire(agent.id, '2026-12-02T10:55:00Z');
    const [s] = await rig.sessionsOf(agent.id);
    expect((await rig.step(s?.id ?? '')).body).toMatchObject({ outcome: 'early' });
    at('2026-12-02T10:55:02Z');
    expect((await rig.step(s?.id ?? '')).body).toMatchObject({ outcome: 'live' });
    const polled = (await rig.sessionsOf(agent.id))[0];
    expect(polled?.nextCheckAt.toISOString()).toBe('2026-12-02T10:55:06.000Z');
    fake.finish(s?.controllerSessionId ?? '', 'completed');
    at('2026-12-02T10:55:06Z');
    expect((await rig.step(s?.id ?? '')).body).toMatchObject({ outcome: 'ended' });
    const [ended] = await rig.sessionsOf(agent.id);
    expect(ended).toMatchObject({ status: 'completed', lastError: null });
    expect(ended?.endedAt?.toISOString()).toBe('2026-12-02T10:55:06.000Z');
    // A session its controller forgot (the machine restarted) ends failed, saying so.
    at('2026-12-02T11:00:00Z');
    await rig.fire(agent.id, '2026-12-02T11:00:00Z');
    const forgotten = (await rig.sessionsOf(agent.id)).at(-1);
    fake.restart();
    at('2026-12-02T11:00:02Z');
    await rig.step(forgotten?.id ?? '');
    expect((await rig.sessionsOf(agent.id)).at(-1)).toMatchObject({
      status: 'failed',
      lastError: 'the instance controller no longer knows this session (its machine restarted)',
    });
  });
});
