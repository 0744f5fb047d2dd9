// Every instance-controller call that changes something (CLI run start and cancel, session
// start and cancel) × {timeout, 5xx before the effect, 5xx after it}, against the Fly
// simulator's controller and its faults: each case ends in one outcome, nothing doubled and
// nothing untracked (the simulator's runs and sessions agree with our rows).
import { eq, inArray, or } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agentSessions, agents, cliRuns } from '../../db/schema/index.ts';
import type { Endpoint } from '../../src/dev-servers/fly-simulator/index.ts';
import { FIRES_PATH, SESSIONS_PATH } from '../../src/triggers/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { deliver } from '../helpers/callbacks.ts';
import { caller } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';
import { expectSimMatchesRows, liveSimSessions } from '../helpers/seams.ts';
import { simControllerOf, until } from '../helpers/sim-controller.ts';

type Fault = {
  name: string;
  timeout: boolean;
  faults: (endpoint: Endpoint) => Record<string, unknown>;
};

/** A timeout: 250 s of simulated latency is 2.5 s here, past the client's 1 s. */
const FAULTS: Fault[] = [
  {
    name: 'a timeout',
    timeout: true,
    faults: (endpoint) => ({ latency: [{ endpoint, ms: 250_000 }] }),
  },
  ...[500, 503].flatMap((status) =>
    (['before', 'after'] as const).map(
      (phase): Fault => ({
        name: `${status} ${phase} the effect`,
        timeout: false,
        faults: (endpoint) => ({ errors: [{ endpoint, status, times: 1, phase }] }),
      }),
    ),
  ),
];

describe('the controller fault matrix: one outcome, nothing doubled, nothing untracked', async () => {
  const clock = testClock(new Date('2026-12-03T08:00:30Z'));
  const t = await createTestApp({ serve: true, clock, controllerTimeoutMs: 1_000 });
  await seedCatalog(t);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);
  const instance = async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    return i;
  };
  const runRow = async (id: string) => {
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, id));
    if (!row) throw new Error('no run');
    return row;
  };
  /** Delivers doorbells, moving the clock, until no run is live or owes a cancel. */
  const settle = async () => {
    for (let round = 0; round < 40; round++) {
      await t.deliverDue();
      const open = await t.db.db
        .select({ id: cliRuns.id })
        .from(cliRuns)
        .where(
          or(inArray(cliRuns.status, ['starting', 'running']), eq(cliRuns.cleanup, 'pending')),
        );
      if (!open.length) return;
      t.clock.advance(2_000);
    }
    throw new Error('runs did not settle');
  };
  /** A started effect the client gave up on lands once the simulator's latency is over. */
  const landed = (
    machineId: string,
    check: (c: Awaited<ReturnType<typeof simControllerOf>>) => boolean,
  ) => until('the abandoned request to land', () => simControllerOf(t, machineId), check);

  describe('CLI run start', () => {
    it.each(FAULTS)('$name: the run is tracked as running, one run on the machine', async (f) => {
      const i = await instance();
      await flyFaults(t, f.faults('controller_start_cli_run'));
      const res = await admin('POST', `/instances/${i.id}/cli-runs`, {
        prompt: '#sim duration=1h',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      if (f.timeout) {
        expect(res.body.status).toBe('starting');
        await landed(i.machineId, (c) => c.runs.length === 1);
        await flyFaults(t, null);
        t.clock.advance(3_000);
        await t.deliverDue();
      } else expect(res.body.status, JSON.stringify(res.body)).toBe('running');
      const row = await runRow(res.body.id);
      expect(row.status).toBe('running');
      const { runs } = await simControllerOf(t, i.machineId);
      expect(runs.map((r) => [r.runId, r.idempotencyKey, r.status])).toEqual([
        [row.controllerRunId, row.id, 'running'],
      ]);
      await expectSimMatchesRows(t, [i.machineId]);
      await flyFaults(t, null);
      expect((await admin('POST', `/cli-runs/${row.id}/cancel`)).body.status).toBe('cancelled');
      await settle();
    });
  });

  describe('CLI run cancel', () => {
    it.each(FAULTS)('$name: cancelled at once, the cancel sent until confirmed', async (f) => {
      const i = await instance();
      const res = await admin('POST', `/instances/${i.id}/cli-runs`, {
        prompt: '#sim duration=1h',
      });
      expect(res.body.status).toBe('running');
      await flyFaults(t, f.faults('controller_cancel_cli_run'));
      const cancel = await admin('POST', `/cli-runs/${res.body.id}/cancel`);
      expect(cancel.status).toBe(200);
      expect(cancel.body).toMatchObject({ status: 'cancelled', cleanup: 'pending' });
      if (f.timeout) await landed(i.machineId, (c) => c.runs[0]?.status === 'cancelled');
      await flyFaults(t, null);
      await settle();
      const row = await runRow(res.body.id);
      expect(row).toMatchObject({ status: 'cancelled', cleanup: 'confirmed' });
      const { runs } = await simControllerOf(t, i.machineId);
      expect(runs.map((r) => [r.runId, r.status])).toEqual([[row.controllerRunId, 'cancelled']]);
      await expectSimMatchesRows(t, [i.machineId]);
    });
  });

  /** An agent on the instance whose fires are due from now, and a way to fire its next one. */
  const agentOn = async (instanceId: string, overlapPolicy: string) => {
    const res = await admin('POST', '/agents', {
      instanceId,
      name: `digest-${crypto.randomUUID().slice(0, 8)}`,
      prompt: '#sim duration=1h\nSummarise the inbox.',
      cronExpression: '*/5 * * * *',
      timeZone: 'UTC',
      overlapPolicy,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    return {
      id,
      /** Moves the clock to the agent's next fire time and rings its doorbell. */
      fireNext: async () => {
        const [row] = await t.db.db.select().from(agents).where(eq(agents.id, id));
        const at = row?.nextFireAt;
        if (!at) throw new Error('no next fire');
        clock.set(at);
        await deliver(t, FIRES_PATH, { agentId: id, fireAt: at.toISOString() });
        return at;
      },
      sessions: () =>
        t.db.db
          .select()
          .from(agentSessions)
          .where(eq(agentSessions.agentId, id))
          .orderBy(agentSessions.scheduledFor),
      lastFiredAt: async () =>
        (await t.db.db.select().from(agents).where(eq(agents.id, id)))[0]?.lastFiredAt ?? null,
    };
  };
  const step = (sessionId: string) => deliver(t, SESSIONS_PATH, { sessionId });

  describe('session start', () => {
    it.each(FAULTS)(
      '$name: one session, tracked, never skipped; last_fired_at moves',
      async (f) => {
        const i = await instance();
        const agent = await agentOn(i.id, 'skip');
        await flyFaults(t, f.faults('controller_start_session'));
        const firedAt = await agent.fireNext();
        const [first] = await agent.sessions();
        expect(first?.status).toBe('creating');
        expect(first?.startUnknownAt).not.toBeNull();
        if (f.timeout) await landed(i.machineId, (c) => c.sessions.length === 1);
        await flyFaults(t, null);
        t.clock.advance(3_000);
        await step(first?.id ?? '');
        const rows = await agent.sessions();
        expect(rows).toHaveLength(1);
        expect(['creating', 'ready']).toContain(rows[0]?.status);
        expect((await agent.lastFiredAt())?.getTime()).toBe(firedAt.getTime());
        const { sessions } = await simControllerOf(t, i.machineId);
        expect(sessions.map((s) => [s.sessionId, s.idempotencyKey])).toEqual([
          [rows[0]?.controllerSessionId, rows[0]?.id],
        ]);
        await expectSimMatchesRows(t, [i.machineId]);
      },
    );
  });

  describe('session cancel (overlap policy cancel_other)', () => {
    it.each(FAULTS)(
      '$name: the live session is cancelled before the next starts; never two live',
      async (f) => {
        const i = await instance();
        const agent = await agentOn(i.id, 'cancel_other');
        await agent.fireNext();
        expect(await liveSimSessions(t, agent.id)).toHaveLength(1);
        await flyFaults(t, f.faults('controller_cancel_session'));
        await agent.fireNext();
        expect((await liveSimSessions(t, agent.id)).length).toBeLessThanOrEqual(1);
        const [, next] = await agent.sessions();
        if (f.timeout) {
          expect(next).toMatchObject({ status: 'creating', controllerSessionId: null });
          await landed(i.machineId, (c) => c.sessions.every((s) => s.status === 'cancelled'));
          await flyFaults(t, null);
          t.clock.advance(3_000);
          await step(next?.id ?? '');
        }
        await flyFaults(t, null);
        const rows = await agent.sessions();
        expect(rows.map((r) => [r.status, r.reason])).toEqual([
          ['failed', 'cancelled'],
          [expect.stringMatching(/^(creating|ready)$/), null],
        ]);
        const live = await liveSimSessions(t, agent.id);
        expect(live.map((s) => s.idempotencyKey)).toEqual([rows[1]?.id]);
        await expectSimMatchesRows(t, [i.machineId]);
      },
    );
  });
});
