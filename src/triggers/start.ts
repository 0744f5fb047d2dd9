import { and, eq, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import { agentSessions, agents } from '../../db/schema/index.ts';
import { isControllerError, outcomeUnknown } from '../adapters/controller/errors.ts';
import type { Ring } from '../adapters/queue/doorbells.ts';
import type { Deps } from '../deps.ts';
import { type InstanceTarget, instanceTargets } from '../fleet/instances.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { claimStatement, heldBy, later, released } from '../lib/work/index.ts';
import { cancelOthers, Superseded } from './cancel-others.ts';
import { type ControllerSession, InstanceNotRunning, sessionControllerFrom } from './controller.ts';
import { type AgentSession, followBackoffMs, START_ATTEMPTS, sessionDoorbell } from './model.ts';
import { sessionUnits } from './units.ts';

export type StartRun =
  | { outcome: 'not_claimed' }
  | { outcome: 'started' | 'skipped' | 'failed' | 'retry'; session: AgentSession };

/**
 * Claims a session in `creating` that the controller has not been asked for yet, with a
 * lease, and reads its agent's overlap policy in the same statement.
 */
async function claimStart(db: Db, id: string, now: Date, leaseMs: number) {
  const claimed = db.$with('claimed').as(
    claimStatement(db, sessionUnits, id, {
      now,
      leaseUntil: later(now, leaseMs),
      when: and(
        eq(agentSessions.status, 'creating'),
        sql`${agentSessions.controllerSessionId} is null`,
      ),
    }),
  );
  const [row] = await db
    .with(claimed)
    .select()
    .from(claimed)
    .innerJoin(agents, eq(agents.id, claimed.agentId));
  return row
    ? { session: row.claimed as AgentSession, overlapPolicy: row.agents.overlapPolicy }
    : null;
}

/**
 * Starts one session through the instance controller: claims it (a lease, src/lib/work),
 * checks the instance is running (otherwise `skipped`, `instance_not_running`), under
 * `cancel_other` ends the agent's other live sessions first (src/triggers/cancel-others.ts),
 * asks the controller, and records the outcome guarded by the claim. Every attempt sends the
 * session's row id as the controller's `Idempotency-Key`, so an attempt after one whose
 * answer was lost gets that same session back, never a second. Only a started `cron` session
 * writes the agent's `last_fired_at` (never moving it back) and `last_outcome`.
 *
 * A start whose outcome is unknown (timeout, 5xx, lost connection: the controller may have
 * started it) stays `creating` with `last_error` saying so and is sent again after a backoff
 * (2 s doubling to 60 s) for as long as it takes: it is never `skipped` or `failed` while it
 * may be live, unless Fly reports the machine gone (then `skipped`, `instance_not_running`:
 * nothing is live). A refused start (4xx), or a `cancel_other` that could not confirm the
 * other sessions ended, is tried again {@link START_ATTEMPTS} times in all, then `failed`.
 * With `rings`, the follow doorbell of a started session is added there (for the caller to
 * publish in one batch) instead of being rung; `targets` are instances the caller read for a
 * batch of starts (read just before, as this would).
 */
export async function startSession(
  deps: Deps,
  sessionId: string,
  options: { rings?: Ring[]; targets?: Map<string, InstanceTarget> } = {},
): Promise<StartRun> {
  const now = deps.clock.now();
  const claim = await claimStart(deps.db, sessionId, now, deps.config.work.leaseMs);
  if (!claim) return { outcome: 'not_claimed' };
  const { session } = claim;
  const target =
    options.targets?.get(session.instanceId) ??
    (await instanceTargets(deps.db, [session.instanceId])).get(session.instanceId);
  const notRunning = !target
    ? 'the instance no longer exists'
    : target.status !== 'running'
      ? `the instance is ${target.status}`
      : null;
  if (notRunning || !target)
    return finish(deps, session, {
      status: 'skipped',
      reason: 'instance_not_running',
      error: notRunning,
    });
  const controllerTarget = {
    instanceId: target.id,
    appName: target.appName,
    machineId: target.machineId,
  };
  try {
    if (claim.overlapPolicy === 'cancel_other' && session.trigger === 'cron')
      await cancelOthers(deps, session, controllerTarget);
  } catch (err) {
    // Nothing was asked of the controller for this session: safe to skip, retry, or fail.
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Superseded)
      return finish(deps, session, { status: 'skipped', reason: 'overlap', error: message });
    return notDone(deps, session, `start waits: ${message}`);
  }
  let started: ControllerSession;
  try {
    started = await sessionControllerFrom(deps.controller).start(controllerTarget, {
      agentId: session.agentId,
      prompt: session.prompt,
      trigger: session.trigger,
      idempotencyKey: session.id,
    });
  } catch (err) {
    if (err instanceof InstanceNotRunning)
      return finish(deps, session, {
        status: 'skipped',
        reason: 'instance_not_running',
        error: err.message,
      });
    const message = err instanceof Error ? err.message : String(err);
    if (!outcomeUnknown(err)) return notDone(deps, session, `start failed: ${message}`);
    // The controller may have started it: never skipped or failed for that. A 502/503 or a
    // lost connection may mean no machine answered: Fly says whether one still runs.
    if (isControllerError(err, 'unreachable') && controllerTarget.machineId) {
      const look = await lookAtMachine(deps, controllerTarget.appName, controllerTarget.machineId);
      if (look.kind === 'gone')
        return finish(deps, session, {
          status: 'skipped',
          reason: 'instance_not_running',
          error: `the instance controller did not answer (${message}) and ${look.words}: nothing is live`,
        });
    }
    deps.log.warn('agent_session.start_unknown', { sessionId, attempts: session.attempts });
    return retryLater(
      deps,
      session,
      `start outcome unknown: ${message}; it is sent again with the same Idempotency-Key`,
      { unknown: true },
    );
  }
  const at = deps.clock.now();
  const terminal = started.status === 'completed' || started.status === 'failed';
  const done: AgentSession = {
    ...session,
    status: started.status,
    controllerSessionId: started.id,
    startedAt: at,
    nextCheckAt: new Date(at.getTime() + followBackoffMs(1)),
    lastError: started.error,
    endedAt: terminal ? at : null,
    claimToken: null,
    leaseUntil: null,
  };
  // One statement: the session's outcome (guarded by the claim) and, for a `cron` session,
  // the agent's last_fired_at, never moved back (a buffered fire can start after a later one).
  const recorded = await queryRows<{ id: string }>(
    deps.db,
    sql`with s as (
          update ${agentSessions} set status = ${done.status}, controller_session_id = ${done.controllerSessionId},
            started_at = ${at.toISOString()}::timestamptz, next_check_at = ${done.nextCheckAt.toISOString()}::timestamptz,
            last_error = ${done.lastError}, ended_at = ${done.endedAt?.toISOString() ?? null}::timestamptz,
            claim_token = null, lease_until = null
          where id = ${session.id}::uuid and claim_token = ${session.claimToken}::uuid
          returning id, agent_id, trigger, scheduled_for),
        a as (
          update ${agents} set last_fired_at = greatest(${agents}.last_fired_at, s.scheduled_for), last_outcome = 'started'
          from s where ${agents}.id = s.agent_id and s.trigger = 'cron')
        select id from s`,
  );
  if (!recorded.length) return { outcome: 'not_claimed' };
  if (!terminal) {
    if (options.rings) options.rings.push(sessionDoorbell(done));
    else await ring(deps, done);
  }
  return { outcome: 'started', session: done };
}

/** A failed attempt that changed nothing: tried again, {@link START_ATTEMPTS} in all. */
async function notDone(deps: Deps, session: AgentSession, error: string): Promise<StartRun> {
  deps.log.warn('agent_session.start_failed', {
    sessionId: session.id,
    attempts: session.attempts,
    error,
  });
  if (session.attempts < START_ATTEMPTS) return retryLater(deps, session, error);
  return finish(deps, session, { status: 'failed', reason: null, error });
}

/**
 * Back to waiting for its doorbell after a backoff (2 s doubling to 60 s), saying why; with
 * `unknown`, the start's outcome is recorded as unknown (`start_unknown_at`, kept from the
 * first time).
 */
async function retryLater(
  deps: Deps,
  session: AgentSession,
  error: string,
  options: { unknown?: boolean } = {},
): Promise<StartRun> {
  const now = deps.clock.now();
  const at = new Date(now.getTime() + followBackoffMs(session.attempts));
  const [row] = await deps.db
    .update(agentSessions)
    .set({
      nextCheckAt: at,
      lastError: error,
      ...(options.unknown ? { startUnknownAt: session.startUnknownAt ?? now } : {}),
      ...released(agentSessions),
    })
    .where(heldBy(agentSessions, session))
    .returning();
  if (row) await ring(deps, row);
  return row ? { outcome: 'retry', session: row } : { outcome: 'not_claimed' };
}

/** A session that never started: `skipped` or `failed`, and the agent's `last_outcome` (a `cron` one). */
async function finish(
  deps: Deps,
  session: AgentSession,
  end: {
    status: 'skipped' | 'failed';
    reason: 'instance_not_running' | 'overlap' | null;
    error: string | null;
  },
): Promise<StartRun> {
  const at = deps.clock.now();
  const row = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(agentSessions)
      .set({
        status: end.status,
        reason: end.reason,
        lastError: end.error,
        endedAt: at,
        ...released(agentSessions),
      })
      .where(heldBy(agentSessions, session))
      .returning();
    if (row && row.trigger === 'cron')
      await tx
        .update(agents)
        .set({ lastOutcome: end.reason ? `skipped: ${end.reason}` : `failed: ${end.error ?? ''}` })
        .where(eq(agents.id, row.agentId));
    return row ?? null;
  });
  if (!row) return { outcome: 'not_claimed' };
  deps.log.info('agent_session.not_started', {
    sessionId: row.id,
    status: row.status,
    reason: row.reason,
  });
  return { outcome: end.status, session: row };
}

async function ring(deps: Deps, session: AgentSession): Promise<void> {
  try {
    await deps.doorbells.ring(sessionDoorbell(session));
  } catch (err) {
    deps.log.warn('agent_session.ring_failed', { sessionId: session.id, error: err });
  }
}
