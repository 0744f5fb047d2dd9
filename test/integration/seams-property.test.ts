// The jobs together under one fault at a time (issue: the seams). Each run builds a small
// world on fresh instances — a scheduled restart with an email notice on A, a CLI run on B,
// an agent session on C — and may stop one machine behind our back (a recovery). fast-check
// picks one outside call (Fly, the instance controller or the email provider) to fail once
// (a timeout, a 503 before or after the effect, or a crash after the call before anything is
// recorded) and how doorbells misbehave (none, every one delivered twice, or one rung early
// each round). After settling, the promises:
// nothing doubled, nothing untracked, nothing lost, every unit ended or clearly waiting.
import { and, eq, inArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simOutboxMessages, simQstashMessages } from '../../db/dev-schema/index.ts';
import {
  agentSessions,
  cliRuns,
  instanceOperations,
  instances,
  noticeDeliveries,
  recoveries,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { Mailer, SendOutcome } from '../../src/adapters/email/mailer.ts';
import type { Endpoint } from '../../src/dev-servers/fly-simulator/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { deliver, sweepNow, userUpdates } from '../helpers/callbacks.ts';
import { caller } from '../helpers/cli-runs.ts';
import { crashSwitch } from '../helpers/crash.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';
import { ringReconcile } from '../helpers/recovery.ts';
import { simAgainstRows } from '../helpers/seams.ts';

/** The outside calls that change something or decide something, and the client verbs behind them. */
const CALLS: Partial<Record<Endpoint, string>> = {
  get_machine: 'getMachine',
  update_machine: 'updateMachine',
  start_machine: 'startMachine',
  list_machines: 'listMachines',
  controller_start_cli_run: 'startCliRun',
  controller_get_cli_run: 'getCliRun',
  controller_cancel_cli_run: 'cancelCliRun',
  controller_start_session: 'startSession',
  controller_get_session: 'getSession',
};
/** The provider call of an email notice (the outbox stand-in, wrapped below). */
const EMAIL = 'email_send_batch';
const ENDPOINTS = [...(Object.keys(CALLS) as Endpoint[]), EMAIL] as const;
const KINDS = ['timeout', '503 before', '503 after', 'crash after'] as const;
type Scenario = {
  endpoint: (typeof ENDPOINTS)[number];
  kind: (typeof KINDS)[number];
  doorbells: 'once' | 'twice' | 'early';
  stop: 'none' | 'A' | 'B' | 'C';
  cancelRun: boolean;
};

describe('the jobs together under one fault: nothing doubled, untracked or lost', async () => {
  /** `crash after`: the process "dies" once right after a client verb returned. */
  const crash = crashSwitch();
  /** The email provider's next request: lost before or after it is sent, or a crash after. */
  let emailFault: 'before' | 'after' | 'crash' | null = null;
  const faultyMailer = (mailer: Mailer): Mailer => ({
    maxBatch: mailer.maxBatch,
    limiter: mailer.limiter,
    async sendBatch(messages, options) {
      const fault = emailFault;
      emailFault = null;
      const lost = (reason: string) =>
        new Map<string, SendOutcome>(
          messages.map((m) => [m.id, { status: 'unknown', reason, retryAfterMs: null }]),
        );
      if (fault === 'before') return lost('503 before the send');
      const outcomes = await mailer.sendBatch(messages, options);
      if (fault === 'after') return lost('503 (or a timeout) after the send');
      if (fault === 'crash') throw new Error('crash after sendBatch: died before recording');
      return outcomes;
    },
  });
  const t = await createTestApp({
    mailer: faultyMailer,
    serve: true,
    clock: testClock(new Date('2026-12-08T09:00:30Z')),
    controllerTimeoutMs: 1_000,
    env: { FLY_REQUEST_TIMEOUT_SECONDS: '1' },
    wrapFly: crash.wrap,
    wrapController: crash.wrap,
  });
  await seedCatalog(t);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);

  const inject = async (s: Scenario) => {
    if (s.endpoint === EMAIL)
      emailFault =
        s.kind === 'crash after' ? 'crash' : s.kind === '503 before' ? 'before' : 'after';
    else if (s.kind === 'crash after') crash.arm(CALLS[s.endpoint] ?? null);
    else if (s.kind === 'timeout')
      // 150 s of simulated latency after the effect is 1.5 s here, past both clients' 1 s.
      await flyFaults(t, { latency: [{ endpoint: s.endpoint, ms: 150_000, phase: 'after' }] });
    else
      await flyFaults(t, {
        errors: [
          { endpoint: s.endpoint, status: 503, times: 1, phase: s.kind.split(' ')[1] as 'before' },
        ],
      });
  };

  /** Delivers what is due; then, as the scenario says, the same messages again or one early. */
  const ring = async (mode: Scenario['doorbells']) => {
    const deliveredBefore = new Set(
      (
        await t.db.db
          .select({ id: simQstashMessages.messageId })
          .from(simQstashMessages)
          .where(eq(simQstashMessages.status, 'delivered'))
      ).map((m) => m.id),
    );
    await t.deliverDue();
    const again =
      mode === 'twice'
        ? (
            await t.db.db
              .select()
              .from(simQstashMessages)
              .where(eq(simQstashMessages.status, 'delivered'))
          ).filter((m) => !deliveredBefore.has(m.messageId))
        : mode === 'early'
          ? await t.db.db
              .select()
              .from(simQstashMessages)
              .where(eq(simQstashMessages.status, 'pending'))
              .orderBy(simQstashMessages.notBefore)
              .limit(1)
          : [];
    for (const m of again)
      await deliver(
        t,
        new URL(m.destination).pathname,
        m.bodyBase64 ? JSON.parse(atob(m.bodyBase64)) : {},
        // A duplicate carries the message's id; an early ring is a message of its own.
        mode === 'twice' ? m.messageId : undefined,
      );
  };

  /** What is still live or owed among this world's units (empty: settled). */
  const open = async (ids: string[], actionId: string) => {
    const [targets, ops, runs, recs, deliveries, sessions] = await Promise.all([
      t.db.db
        .select({ s: scheduledActionTargets.status })
        .from(scheduledActionTargets)
        .where(
          and(
            eq(scheduledActionTargets.actionId, actionId),
            inArray(scheduledActionTargets.status, ['pending', 'running']),
          ),
        ),
      t.db.db
        .select({ s: instanceOperations.status })
        .from(instanceOperations)
        .where(
          and(
            inArray(instanceOperations.instanceId, ids),
            inArray(instanceOperations.status, ['pending', 'running']),
          ),
        ),
      t.db.db
        .select({ s: cliRuns.status, c: cliRuns.cleanup })
        .from(cliRuns)
        .where(
          and(
            inArray(cliRuns.instanceId, ids),
            sql`(${cliRuns.status} in ('starting', 'running') or ${cliRuns.cleanup} = 'pending')`,
          ),
        ),
      t.db.db
        .select({ s: recoveries.status })
        .from(recoveries)
        .where(
          and(
            inArray(recoveries.instanceId, ids),
            inArray(recoveries.status, ['pending', 'running']),
          ),
        ),
      t.db.db
        .select({ s: noticeDeliveries.status })
        .from(noticeDeliveries)
        .where(
          and(
            eq(noticeDeliveries.actionId, actionId),
            inArray(noticeDeliveries.status, ['pending', 'sending']),
          ),
        ),
      t.db.db
        .select({ s: agentSessions.status })
        .from(agentSessions)
        .where(
          and(
            inArray(agentSessions.instanceId, ids),
            inArray(agentSessions.status, ['buffered', 'creating', 'ready']),
          ),
        ),
    ]);
    return [
      ...targets.map((r) => `target ${r.s}`),
      ...ops.map((r) => `operation ${r.s}`),
      ...runs.map((r) => `CLI run ${r.s}${r.c ? ` (cleanup ${r.c})` : ''}`),
      ...recs.map((r) => `recovery ${r.s}`),
      ...deliveries.map((r) => `notice delivery ${r.s}`),
      ...sessions.map((r) => `session ${r.s}`),
    ];
  };

  const world = async (s: Scenario) => {
    await flyFaults(t, null);
    crash.arm(null);
    emailFault = null;
    const [a, b, c] = await fleetOf(t, 3);
    if (!a || !b || !c) throw new Error('no fleet');
    const now = t.clock.now().getTime();
    // A: a restart in 2 minutes, announced by email 1 minute ahead.
    const scheduled = await admin('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [a.id] },
      runAt: new Date(now + 120_000).toISOString(),
      reason: 'the seams, together',
      leadMinutes: 1,
      channels: ['email'],
    });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(201);
    // C: an agent on cron that is run now as well.
    const agent = await admin('POST', '/agents', {
      instanceId: c.id,
      name: `seams-${crypto.randomUUID().slice(0, 8)}`,
      prompt: '#sim duration=40s\nSummarise the inbox.',
      cronExpression: '0 3 * * *',
      timeZone: 'UTC',
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);

    await inject(s);
    // B: a CLI run; a start met by the fault answers 201 (tracked) or a clear 5xx.
    const run = await admin('POST', `/instances/${b.id}/cli-runs`, {
      prompt: '#sim duration=30s',
    });
    expect([201, 502, 503], JSON.stringify(run.body)).toContain(run.status);
    const session = await admin('POST', `/agents/${agent.body.id}/run`);
    expect([202, 409, 502, 503], JSON.stringify(session.body)).toContain(session.status);
    const stopped = { none: null, A: a, B: b, C: c }[s.stop];
    if (stopped) await flyFaults(t, { stop_machines: [{ machine_id: stopped.machineId }] });
    if (s.cancelRun && run.status === 201) {
      // An admin cancel always answers at once, whatever the controller does.
      const cancel = await admin('POST', `/cli-runs/${run.body.id}/cancel`);
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    }
    return { fleet: [a, b, c], actionId: scheduled.body.id as string };
  };

  const settle = async (s: Scenario, ids: string[], actionId: string, runAt: number) => {
    for (let round = 0; round < 120; round++) {
      // A fault is weather: once the world has met it, the sky clears (one failure per run).
      if (round === 6) await flyFaults(t, null);
      await ring(s.doorbells);
      if (round % 4 === 3) {
        await ringReconcile(t);
        await sweepNow(t);
      }
      const left = await open(ids, actionId);
      if (!left.length && t.clock.now().getTime() > runAt) return;
      t.clock.advance(10_000);
      // The simulator's machines and runs move in scaled real time.
      await new Promise((r) => setTimeout(r, 20));
      if (round === 119) throw new Error(`did not settle: ${JSON.stringify(left)}`);
    }
  };

  const expectPromisesKept = async (
    fleet: { id: string; machineId: string }[],
    actionId: string,
  ) => {
    const ids = fleet.map((f) => f.id);
    const a = fleet[0] as { id: string; machineId: string };
    const app = t.deps.config.fly.appName;
    const rows = await t.db.db.select().from(instances).where(inArray(instances.id, ids));
    const machineIds = rows.map((r) => r.machineId).filter((m): m is string => Boolean(m));
    // Nothing untracked or doubled on the controllers.
    expect(await simAgainstRows(t, machineIds)).toEqual([]);
    // Every instance is running on one started machine that Fly and our row agree on.
    const live = await t.deps.fly.listMachines(app);
    for (const row of rows) {
      expect(row.status, row.id).toBe('running');
      expect(row.holdId, row.id).toBeNull();
      const machine = live.find((m) => m.id === row.machineId);
      expect(machine?.state, row.id).toBe('started');
    }
    // One operation for the scheduled target; a completed target's notice went out once.
    const [target] = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, actionId));
    expect(['applied', 'skipped', 'failed']).toContain(target?.status);
    if (target?.status !== 'applied') expect(target?.error ?? target?.skipReason).toBeTruthy();
    const ops = await t.db.db
      .select()
      .from(instanceOperations)
      .where(
        and(inArray(instanceOperations.instanceId, ids), eq(instanceOperations.kind, 'restart')),
      );
    expect(ops.length).toBeLessThanOrEqual(1);
    // Fly saw the restart's update once when it was applied, never twice.
    const updates = await userUpdates(t, a.machineId);
    expect(updates).toBeLessThanOrEqual(1);
    if (target?.status === 'applied') expect(updates).toBe(1);
    const emails = await t.db.db
      .select({ tags: simOutboxMessages.tags, recipient: simOutboxMessages.recipient })
      .from(simOutboxMessages)
      .where(sql`${simOutboxMessages.tags}->>'actionId' = ${actionId}`);
    const notices = emails.filter((e) => e.tags.kind === 'notice');
    expect(notices.length).toBeLessThanOrEqual(1);
    if (target?.status === 'applied') expect(notices).toHaveLength(1);
    // Every CLI run and session ended, each with a reason when it did not complete.
    const runs = await t.db.db.select().from(cliRuns).where(inArray(cliRuns.instanceId, ids));
    for (const r of runs) {
      expect(['completed', 'failed', 'cancelled']).toContain(r.status);
      if (r.status === 'failed') expect(r.lastError).toBeTruthy();
    }
    const recs = await t.db.db.select().from(recoveries).where(inArray(recoveries.instanceId, ids));
    for (const r of recs) expect(['succeeded', 'failed']).toContain(r.status);
  };

  // About 1.5 s a run here; SEAMS_RUNS=100 explores further when the seams change.
  it('holds its promises for every fault fast-check picks', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          endpoint: fc.constantFrom(...ENDPOINTS),
          kind: fc.constantFrom(...KINDS),
          doorbells: fc.constantFrom('once' as const, 'twice' as const, 'early' as const),
          stop: fc.constantFrom('none' as const, 'A' as const, 'B' as const, 'C' as const),
          cancelRun: fc.boolean(),
        }),
        async (s) => {
          const { fleet, actionId } = await world(s);
          const ids = fleet.map((f) => f.id);
          await settle(s, ids, actionId, t.clock.now().getTime() + 120_000);
          await expectPromisesKept(fleet, actionId);
        },
      ),
      { numRuns: Number(process.env.SEAMS_RUNS ?? 8), endOnFailure: true },
    );
  });
});
