import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { agentSessions, agents } from '../../db/schema/index.ts';
import { isControllerError } from '../adapters/controller/errors.ts';
import type { Deps } from '../deps.ts';
import { instanceTargets } from '../fleet/instances.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { claimUnit, heldBy, later, released } from '../lib/work/index.ts';
import { sessionControllerFrom } from './controller.ts';
import { type AgentSession, followBackoffMs, sessionDoorbell } from './model.ts';
import { sessionUnits } from './units.ts';

export type FollowRun =
  | { outcome: 'not_claimed' }
  | { outcome: 'live' | 'ended'; session: AgentSession; released: string[] };

/** Claims a started, unfinished session whose next check is due, with a lease. */
async function claimFollow(db: Db, id: string, now: Date, leaseMs: number) {
  return claimUnit(db, sessionUnits, id, {
    now,
    leaseUntil: later(now, leaseMs),
    when: isNotNull(agentSessions.controllerSessionId),
  });
}

/**
 * One poll of a started session: asks the controller for it and records what it says. A live
 * session is polled again after a backoff (2 s doubling to 60 s, by claim count) through its
 * own doorbell; a finished one gets `ended_at`, and in the same transaction the agent's
 * `buffered` session (overlap policy `buffer_one`) becomes `creating` (or `skipped`,
 * `agent_disabled`, when the agent was paused meanwhile); its id is returned to start.
 * A failed poll is retried like a live one: the session stays as it was, unless Fly reports
 * its machine gone after a 502/503 or a lost connection (`failed`, `machine_lost`).
 */
export async function followSession(deps: Deps, sessionId: string): Promise<FollowRun> {
  const now = deps.clock.now();
  const session = await claimFollow(deps.db, sessionId, now, deps.config.work.leaseMs);
  if (!session) return { outcome: 'not_claimed' };
  const target = (await instanceTargets(deps.db, [session.instanceId])).get(session.instanceId);
  let state: {
    status: AgentSession['status'];
    error: string | null;
    reason?: 'machine_lost';
  };
  try {
    if (!target) throw new Error('the instance no longer exists');
    const s = await sessionControllerFrom(deps.controller).get(
      { instanceId: target.id, appName: target.appName, machineId: target.machineId },
      session.controllerSessionId as string,
    );
    state = { status: s.status, error: s.error };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    state = { status: session.status, error: `poll failed: ${message}` };
    // A 502/503 or a lost connection may mean no machine answered: Fly says whether it runs.
    if (target?.machineId && isControllerError(err, 'unreachable')) {
      const look = await lookAtMachine(deps, target.appName, target.machineId);
      if (look.kind === 'gone')
        state = {
          status: 'failed',
          reason: 'machine_lost',
          error: `the session ended with its machine (${look.words})`,
        };
    }
  }
  const at = deps.clock.now();
  const ended = state.status === 'completed' || state.status === 'failed';
  const result = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(agentSessions)
      .set({
        status: state.status,
        ...(state.reason ? { reason: state.reason } : {}),
        lastError: state.error,
        nextCheckAt: new Date(at.getTime() + followBackoffMs(session.attempts)),
        ...(ended ? { endedAt: at } : {}),
        ...released(agentSessions),
      })
      .where(heldBy(agentSessions, session))
      .returning();
    if (!row) return null;
    return { row, released: ended ? await releaseBuffered(tx, row.agentId, at) : [] };
  });
  if (!result) return { outcome: 'not_claimed' };
  if (!ended) {
    try {
      await deps.doorbells.ring(sessionDoorbell(result.row));
    } catch (err) {
      deps.log.warn('agent_session.ring_failed', { sessionId, error: err });
    }
  }
  return { outcome: ended ? 'ended' : 'live', session: result.row, released: result.released };
}

/**
 * The agent's `buffered` session, if no other session is live: `creating` and due now
 * (an enabled agent) or `skipped` (`agent_disabled`). Returns the ids to start.
 */
export async function releaseBuffered(tx: Db, agentId: string, at: Date): Promise<string[]> {
  const rows = await tx.execute(sql`
    update ${agentSessions} s set
      status = case when a.enabled then 'creating' else 'skipped' end,
      reason = case when a.enabled then null else 'agent_disabled' end,
      ended_at = case when a.enabled then null else ${at}::timestamptz end,
      next_check_at = ${at}::timestamptz
    from ${agents} a
    where s.agent_id = ${agentId} and a.id = s.agent_id and s.status = 'buffered'
      and not exists (
        select 1 from ${agentSessions} o
        where o.agent_id = s.agent_id and o.status in ('creating', 'ready'))
    returning s.id, s.status`);
  const list = (rows as unknown as { rows: { id: string; status: string }[] }).rows;
  return list.filter((r) => r.status === 'creating').map((r) => r.id);
}

/** The agent's buffered sessions become `skipped` (`agent_disabled`): it was paused. */
export async function skipBuffered(tx: Db, agentId: string, at: Date): Promise<void> {
  await tx
    .update(agentSessions)
    .set({ status: 'skipped', reason: 'agent_disabled', endedAt: at })
    .where(and(eq(agentSessions.agentId, agentId), eq(agentSessions.status, 'buffered')));
}
