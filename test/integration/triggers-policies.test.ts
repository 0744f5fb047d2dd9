import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agentSessions } from '../../db/schema/index.ts';
import type { Deps } from '../../src/deps.ts';
import { heldBy } from '../../src/lib/work/index.ts';
import { agentRig } from '../helpers/agents.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { fakeController } from '../helpers/fake-controller.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';

const statuses = (rows: { status: string; reason: string | null }[]) =>
  rows.map((s) => (s.reason ? `${s.status}:${s.reason}` : s.status));

describe('overlap policies (Temporal Schedules semantics)', async () => {
  const clock = testClock(new Date('2026-12-03T08:00:30Z'));
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const rig = await agentRig(t);
  const at = (iso: string) => clock.set(new Date(iso));
  const fireAt = async (id: string, iso: string) => {
    at(iso);
    return (await rig.fire(id, iso)).body;
  };

  it('skip: a fire while a session is live is skipped; once it ended, the next fire starts', async () => {
    at('2026-12-03T08:00:30Z');
    const agent = await rig.create({ cronExpression: '*/5 * * * *', overlapPolicy: 'skip' });
    await fireAt(agent.id, '2026-12-03T08:05:00Z');
    await fireAt(agent.id, '2026-12-03T08:10:00Z');
    const [first] = await rig.sessionsOf(agent.id);
    fake.finish(first?.controllerSessionId ?? '');
    at('2026-12-03T08:10:02Z');
    await rig.step(first?.id ?? '');
    await fireAt(agent.id, '2026-12-03T08:15:00Z');
    expect(statuses(await rig.sessionsOf(agent.id))).toEqual([
      'completed',
      'skipped:overlap',
      'ready',
    ]);
  });

  it('buffer_one: one fire waits for the live session and starts when it ends; more are skipped', async () => {
    at('2026-12-03T08:00:30Z');
    const agent = await rig.create({ cronExpression: '*/5 * * * *', overlapPolicy: 'buffer_one' });
    await fireAt(agent.id, '2026-12-03T08:05:00Z');
    await fireAt(agent.id, '2026-12-03T08:10:00Z');
    await fireAt(agent.id, '2026-12-03T08:15:00Z');
    expect(statuses(await rig.sessionsOf(agent.id))).toEqual([
      'ready',
      'buffered',
      'skipped:overlap',
    ]);
    expect((await rig.agentRow(agent.id)).lastFiredAt?.toISOString()).toBe(
      '2026-12-03T08:05:00.000Z',
    );
    const [first] = await rig.sessionsOf(agent.id);
    fake.finish(first?.controllerSessionId ?? '');
    at('2026-12-03T08:16:00Z');
    await rig.step(first?.id ?? '');
    expect(statuses(await rig.sessionsOf(agent.id))).toEqual([
      'completed',
      'ready',
      'skipped:overlap',
    ]);
    // The buffered fire counts as fired when it starts.
    expect((await rig.agentRow(agent.id)).lastFiredAt?.toISOString()).toBe(
      '2026-12-03T08:10:00.000Z',
    );
  });

  it('buffer_one: pausing the agent skips the buffered fire (agent_disabled)', async () => {
    at('2026-12-03T08:00:30Z');
    const agent = await rig.create({ cronExpression: '*/5 * * * *', overlapPolicy: 'buffer_one' });
    await fireAt(agent.id, '2026-12-03T08:05:00Z');
    await fireAt(agent.id, '2026-12-03T08:10:00Z');
    const paused = await rig.call('POST', `/agents/${agent.id}/pause`);
    expect(paused.body).toMatchObject({ enabled: false, nextFireAt: null });
    expect(statuses(await rig.sessionsOf(agent.id))).toEqual(['ready', 'skipped:agent_disabled']);
  });

  it('allow_all: every fire starts a session, live ones or not (with a controller that allows it)', async () => {
    const open = fakeController();
    const t2 = await createTestApp({ serve: true, clock, wrapController: () => open.client });
    const r2 = await agentRig(t2);
    at('2026-12-03T08:00:30Z');
    const agent = await r2.create({ cronExpression: '*/5 * * * *', overlapPolicy: 'allow_all' });
    for (const iso of ['2026-12-03T08:05:00Z', '2026-12-03T08:10:00Z', '2026-12-03T08:15:00Z']) {
      at(iso);
      await r2.fire(agent.id, iso);
    }
    expect(statuses(await r2.sessionsOf(agent.id))).toEqual(['ready', 'ready', 'ready']);
    expect(open.sessionsOf(agent.id)).toHaveLength(3);
  });

  it('cancel_other: the live session is cancelled through the controller, then the new one starts', async () => {
    at('2026-12-03T08:00:30Z');
    const agent = await rig.create({
      cronExpression: '*/5 * * * *',
      overlapPolicy: 'cancel_other',
    });
    await fireAt(agent.id, '2026-12-03T08:05:00Z');
    const [first] = await rig.sessionsOf(agent.id);
    // A follow handler holds the live session's claim while the next fire cancels it.
    const follower = crypto.randomUUID();
    await t.db.db
      .update(agentSessions)
      .set({ claimToken: follower, leaseUntil: new Date('2026-12-03T09:00:00Z') })
      .where(eq(agentSessions.id, first?.id ?? ''));
    await fireAt(agent.id, '2026-12-03T08:10:00Z');
    expect(fake.calls.cancel).toContain(first?.controllerSessionId);
    // The follower's late write ("still ready") is guarded by its token and finds nothing.
    const late = await t.db.db
      .update(agentSessions)
      .set({ status: 'ready', reason: null, endedAt: null })
      .where(heldBy(agentSessions, { id: first?.id ?? '', claimToken: follower }))
      .returning({ id: agentSessions.id });
    expect(late).toEqual([]);
    const rows = await rig.sessionsOf(agent.id);
    expect(statuses(rows)).toEqual(['failed:cancelled', 'ready']);
    expect(rows[0]?.lastError).toBe(
      'cancelled by the fire of 2026-12-03T08:10:00.000Z (overlap policy cancel_other)',
    );
    expect((await rig.agentRow(agent.id)).lastFiredAt?.toISOString()).toBe(
      '2026-12-03T08:10:00.000Z',
    );
  });
});

describe('catch-up policies after downtime', async () => {
  const clock = testClock(new Date('2026-12-03T09:30:00Z'));
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const rig = await agentRig(t);
  const at = (iso: string) => clock.set(new Date(iso));
  const times = async (id: string) =>
    (await rig.sessionsOf(id)).map((s) => s.scheduledFor.toISOString().slice(11, 16));

  // Hourly from 10:00; the product is down from 09:59 to 13:00:30 (10:00, 11:00, 12:00 missed;
  // 13:00 is on time when it comes back).
  const hourly = async (catchupPolicy: string, catchupWindowSeconds = 6 * 3600) => {
    at('2026-12-03T09:30:00Z');
    const agent = await rig.create({
      cronExpression: '0 * * * *',
      overlapPolicy: 'allow_all',
      catchupPolicy,
      catchupWindowSeconds,
    });
    at('2026-12-03T13:00:30Z');
    await rig.fire(agent.id, '2026-12-03T10:00:00Z');
    return agent;
  };

  it('skip: none of the missed fire times; the one on time fires', async () => {
    const agent = await hourly('skip');
    expect(await times(agent.id)).toEqual(['13:00']);
    expect((await rig.agentRow(agent.id)).nextFireAt?.toISOString()).toBe(
      '2026-12-03T14:00:00.000Z',
    );
  });

  it('once: one session for the most recent missed time, besides the one on time', async () => {
    const agent = await hourly('once');
    expect(await times(agent.id)).toEqual(['12:00', '13:00']);
  });

  it('all: each missed time in order, then the one on time', async () => {
    const agent = await hourly('all');
    expect(await times(agent.id)).toEqual(['10:00', '11:00', '12:00', '13:00']);
    expect((await rig.agentRow(agent.id)).lastFiredAt?.toISOString()).toBe(
      '2026-12-03T13:00:00.000Z',
    );
  });

  it('the window: missed times older than it are never caught up', async () => {
    // From 13:00:30, a window of 2 h 1 min reaches back to 10:59:30.
    const agent = await hourly('all', 2 * 3600 + 60);
    expect(await times(agent.id)).toEqual(['11:00', '12:00', '13:00']);
  });

  it('all is capped at 100 missed fire times (the latest), in order', async () => {
    at('2026-12-03T09:30:00Z');
    const agent = await rig.create({
      cronExpression: '* * * * *',
      overlapPolicy: 'allow_all',
      catchupPolicy: 'all',
      catchupWindowSeconds: 4 * 3600,
    });
    at('2026-12-03T12:00:30Z');
    await rig.fire(agent.id, '2026-12-03T09:31:00Z');
    const got = await times(agent.id);
    // 11:59 and 12:00 are on time (within 2 minutes); the 100 missed before them: 10:19–11:58.
    expect(got).toHaveLength(102);
    expect(got.slice(0, 2)).toEqual(['10:19', '10:20']);
    expect(got.slice(-3)).toEqual(['11:58', '11:59', '12:00']);
  });
});

describe('allow_all through the real controller client and the Fly simulator', async () => {
  const clock = testClock(new Date('2026-12-03T08:00:30Z'));
  // Every start's answer as the client returned it (or the error it threw).
  const starts: (Awaited<ReturnType<Deps['controller']['startSession']>> | Error)[] = [];
  const t = await createTestApp({
    serve: true,
    clock,
    // 300 ms per call; the fault below holds a start for 1 s (100 s × the 0.01 time scale).
    controllerTimeoutMs: 300,
    wrapController: (real) => ({
      ...real,
      startSession: async (target, input) => {
        try {
          const started = await real.startSession(target, input);
          starts.push(started);
          return started;
        } catch (err) {
          starts.push(err as Error);
          throw err;
        }
      },
    }),
  });
  await seedCatalog(t);
  const [instance] = await fleetOf(t, 1);
  if (!instance) throw new Error('no fleet');
  const rig = await agentRig(t);
  const at = (iso: string) => clock.set(new Date(iso));
  const controllerTarget = {
    appName: t.deps.config.fly.appName,
    machineId: instance.machineId,
    instanceId: instance.id,
  };
  const create = () =>
    rig.create({
      instanceId: instance.id,
      prompt: '#sim duration=1h\nCheck the inbox.',
      cronExpression: '*/5 * * * *',
      overlapPolicy: 'allow_all',
    });

  it('a second fire while the first session is live starts a second live session for the agent', async () => {
    at('2026-12-03T08:00:30Z');
    const agent = await create();
    at('2026-12-03T08:05:00Z');
    await rig.fire(agent.id, '2026-12-03T08:05:00Z');
    at('2026-12-03T08:10:00Z');
    await rig.fire(agent.id, '2026-12-03T08:10:00Z');
    const rows = await rig.sessionsOf(agent.id);
    expect(rows.map((r) => [r.status, r.lastError])).toEqual([
      [expect.stringMatching(/^(creating|ready)$/), null],
      [expect.stringMatching(/^(creating|ready)$/), null],
    ]);
    const ids = rows.map((r) => r.controllerSessionId ?? '');
    expect(new Set(ids).size).toBe(2);
    for (const id of ids)
      expect(await t.deps.controller.getSession(controllerTarget, id)).toMatchObject({
        agentId: agent.id,
        endedAt: null,
      });
  });

  it('a start that timed out but started is retried with the same key and gets that one session back', async () => {
    at('2026-12-03T08:10:30Z');
    const agent = await create();
    const latencyMs = 100_000;
    await flyFaults(t, { latency: [{ endpoint: 'controller_start_session', ms: latencyMs }] });
    starts.length = 0;
    at('2026-12-03T08:15:00Z');
    await rig.fire(agent.id, '2026-12-03T08:15:00Z');
    const sentBy = Date.now();
    const [waiting] = await rig.sessionsOf(agent.id);
    expect(waiting).toMatchObject({ status: 'creating', controllerSessionId: null });
    expect(waiting?.lastError).toMatch(
      /^start outcome unknown: no answer to POST \/_controller\/sessions/,
    );
    // The abandoned request goes on to start the session on the controller: it lands its
    // latency on the simulator's clock after it was sent (and a margin for its handling).
    const landsBy = sentBy + latencyMs * t.flyTimeScale + 200;
    await new Promise((r) => setTimeout(r, Math.max(0, landsBy - Date.now())));
    await flyFaults(t, null);
    at('2026-12-03T08:15:05Z');
    await rig.step(waiting?.id ?? '');
    const [started] = await rig.sessionsOf(agent.id);
    expect(started).toMatchObject({ status: expect.stringMatching(/^(creating|ready)$/) });
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBeInstanceOf(Error);
    // The retry was a replay: the controller had that key's session and started no other.
    expect(starts[1]).toMatchObject({
      replayed: true,
      sessionId: started?.controllerSessionId,
      agentId: agent.id,
    });
  });
});
