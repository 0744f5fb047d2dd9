// Defect 3 of issue 18: a start whose answer was lost (a 503 or a timeout after the
// controller started it) was taken for "not started": the fire was recorded skipped while its
// session ran on untracked (two live under cancel_other), and a CLI run was failed while it
// ran on. Now such an answer is unknown, recorded as such, and resolved by sending the start
// again with the same Idempotency-Key (docs/seams.md).
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agentSessions, agents, cliRuns } from '../../db/schema/index.ts';
import { FIRES_PATH, SESSIONS_PATH } from '../../src/triggers/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { deliver } from '../helpers/callbacks.ts';
import { caller } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';
import { expectSimMatchesRows, liveSimSessions } from '../helpers/seams.ts';
import { simControllerOf, until } from '../helpers/sim-controller.ts';

/** 250 s of simulated latency: 2.5 s at the tests' 0.01 time scale, past the client's 1 s. */
const HANG = { latency: [{ endpoint: 'controller_start_session', ms: 250_000 }] };

describe('a start whose answer is lost is looked up by its key, never taken for not started', async () => {
  const clock = testClock(new Date('2026-12-03T08:00:30Z'));
  const t = await createTestApp({ serve: true, clock, controllerTimeoutMs: 1_000 });
  await seedCatalog(t);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);
  const at = (iso: string) => clock.set(new Date(iso));
  const fire = (agentId: string, iso: string) => {
    at(iso);
    return deliver(t, FIRES_PATH, { agentId, fireAt: new Date(iso).toISOString() });
  };
  const step = (sessionId: string) => deliver(t, SESSIONS_PATH, { sessionId });
  const sessionsOf = (agentId: string) =>
    t.db.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.agentId, agentId))
      .orderBy(agentSessions.scheduledFor);
  const lastFiredAt = async (agentId: string) =>
    (await t.db.db.select().from(agents).where(eq(agents.id, agentId)))[0]?.lastFiredAt ?? null;
  const agentOn = async (instanceId: string, overlapPolicy: string) => {
    at('2026-12-03T08:00:30Z');
    const res = await admin('POST', '/agents', {
      instanceId,
      name: `digest-${crypto.randomUUID().slice(0, 8)}`,
      prompt: '#sim duration=1h\nSummarise the inbox.',
      cronExpression: '*/5 * * * *',
      timeZone: 'UTC',
      overlapPolicy,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };

  it('a session start answered 503 after it started: tracked (creating, never skipped), then ready by replay; last_fired_at moves', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const agentId = await agentOn(i.id, 'skip');
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_start_session', status: 503, times: 1, phase: 'after' }],
    });
    await fire(agentId, '2026-12-03T08:05:00Z');
    const [unknown] = await sessionsOf(agentId);
    expect(unknown).toMatchObject({ status: 'creating', reason: null, controllerSessionId: null });
    expect(unknown?.lastError).toMatch(/^start outcome unknown: .*503/);
    const [live] = (await simControllerOf(t, i.machineId)).sessions;
    expect(live).toMatchObject({ idempotencyKey: unknown?.id, agentId });
    at('2026-12-03T08:05:03Z');
    await step(unknown?.id ?? '');
    const rows = await sessionsOf(agentId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ controllerSessionId: live?.sessionId, lastError: null });
    expect(['creating', 'ready']).toContain(rows[0]?.status);
    expect((await lastFiredAt(agentId))?.toISOString()).toBe('2026-12-03T08:05:00.000Z');
    expect((await simControllerOf(t, i.machineId)).sessions).toHaveLength(1);
    await expectSimMatchesRows(t, [i.machineId]);
  });

  it('a session start that timed out but started: tracked, then ready by replay; last_fired_at moves', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const agentId = await agentOn(i.id, 'skip');
    await flyFaults(t, HANG);
    await fire(agentId, '2026-12-03T08:05:00Z');
    const [unknown] = await sessionsOf(agentId);
    expect(unknown).toMatchObject({ status: 'creating', controllerSessionId: null });
    expect(unknown?.lastError).toMatch(/^start outcome unknown: no answer/);
    expect(await lastFiredAt(agentId)).toBeNull();
    // The abandoned request lands on the controller once its latency is over.
    await until(
      'the abandoned start to land',
      () => simControllerOf(t, i.machineId),
      (c) => c.sessions.length === 1,
    );
    await flyFaults(t, null);
    at('2026-12-03T08:05:03Z');
    await step(unknown?.id ?? '');
    const rows = await sessionsOf(agentId);
    expect(rows.map((r) => r.status)).toEqual([expect.stringMatching(/^(creating|ready)$/)]);
    expect((await lastFiredAt(agentId))?.toISOString()).toBe('2026-12-03T08:05:00.000Z');
    expect((await simControllerOf(t, i.machineId)).sessions).toHaveLength(1);
    await expectSimMatchesRows(t, [i.machineId]);
  });

  it('cancel_other with a lost start answer: never two sessions live at once', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const agentId = await agentOn(i.id, 'cancel_other');
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_start_session', status: 503, times: 1, phase: 'after' }],
    });
    await fire(agentId, '2026-12-03T08:05:00Z');
    expect(await liveSimSessions(t, agentId)).toHaveLength(1);
    // The next fire comes while the first start is still unconfirmed: it waits for it.
    await fire(agentId, '2026-12-03T08:10:00Z');
    expect(await liveSimSessions(t, agentId)).toHaveLength(1);
    const [first, second] = await sessionsOf(agentId);
    expect(second).toMatchObject({ status: 'creating', controllerSessionId: null });
    expect(second?.lastError).toMatch(/^start waits: session .* not confirmed yet/);
    at('2026-12-03T08:10:03Z');
    await step(first?.id ?? '');
    expect(await liveSimSessions(t, agentId)).toHaveLength(1);
    await step(second?.id ?? '');
    const live = await liveSimSessions(t, agentId);
    expect(live.map((s) => s.idempotencyKey)).toEqual([second?.id]);
    const rows = await sessionsOf(agentId);
    expect(rows.map((r) => [r.status, r.reason])).toEqual([
      ['failed', 'cancelled'],
      [expect.stringMatching(/^(creating|ready)$/), null],
    ]);
    await expectSimMatchesRows(t, [i.machineId]);
  });

  it('a CLI run start answered 503 after it started: the run is tracked as running, not failed; no untracked run', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_start_cli_run', status: 503, times: 1, phase: 'after' }],
    });
    const res = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe('running');
    const runs = (await simControllerOf(t, i.machineId)).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ idempotencyKey: res.body.id, status: 'running' });
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, res.body.id));
    expect(row?.controllerRunId).toBe(runs[0]?.runId);
    await expectSimMatchesRows(t, [i.machineId]);
  });

  it('a CLI run start that timed out: answered starting, then running by replay; one run on the machine', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    await flyFaults(t, { latency: [{ endpoint: 'controller_start_cli_run', ms: 250_000 }] });
    const res = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe('starting');
    expect(res.body.lastError).toContain("The start's answer was lost");
    await until(
      'the abandoned start to land',
      () => simControllerOf(t, i.machineId),
      (c) => c.runs.length === 1,
    );
    await flyFaults(t, null);
    t.clock.advance(3_000);
    await t.deliverDue();
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, res.body.id));
    expect(row).toMatchObject({ status: 'running', lastError: null });
    const runs = (await simControllerOf(t, i.machineId)).runs;
    expect(runs.map((r) => [r.runId, r.idempotencyKey])).toEqual([[row?.controllerRunId, row?.id]]);
    await expectSimMatchesRows(t, [i.machineId]);
  });
});
