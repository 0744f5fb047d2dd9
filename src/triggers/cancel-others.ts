import { and, eq, inArray, ne } from 'drizzle-orm';
import { agentSessions } from '../../db/schema/index.ts';
import { isControllerError, outcomeUnknown } from '../adapters/controller/errors.ts';
import type { Deps } from '../deps.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { released } from '../lib/work/index.ts';
import { type ControllerTarget, sessionControllerFrom } from './controller.ts';
import type { AgentSession } from './model.ts';

/**
 * `cancel_other` could not make sure the agent's other sessions are over: this fire's start
 * is not sent (so it stays safe to retry or fail), and is tried again after a backoff.
 */
export class OthersStillLive extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'OthersStillLive';
  }
}

/**
 * `cancel_other`: a newer fire (or session) of the agent is live or being started, and this
 * one never sent its start: it is skipped (`overlap`), so an older fire never starts after a
 * newer one.
 */
export class Superseded extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'Superseded';
  }
}

/** Whether `other` came after `session` (later fire time, or created later at the same one). */
const newer = (other: AgentSession, session: AgentSession) =>
  other.scheduledFor > session.scheduledFor ||
  (other.scheduledFor.getTime() === session.scheduledFor.getTime() &&
    other.createdAt > session.createdAt);

/**
 * Cancels one controller session: a cancel is idempotent, so one whose outcome is unknown
 * is sent once more at once; still unknown after a 502/503 or a lost connection, Fly says
 * whether the machine still runs. Returns Fly's words when the machine is gone (nothing of
 * the session is live); throws {@link OthersStillLive} when the cancel is not confirmed.
 */
async function cancelOne(
  deps: Deps,
  target: ControllerTarget,
  other: AgentSession,
): Promise<string | null> {
  const controller = sessionControllerFrom(deps.controller);
  const id = other.controllerSessionId as string;
  let error: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await controller.cancel(target, id);
      return null;
    } catch (err) {
      error = err;
      if (!outcomeUnknown(err)) break;
    }
  }
  if (isControllerError(error, 'unreachable') && target.machineId) {
    const look = await lookAtMachine(deps, target.appName, target.machineId);
    if (look.kind === 'gone') return look.words;
  }
  const message = error instanceof Error ? error.message : String(error);
  throw new OthersStillLive(
    `cancelling session ${other.id} of the agent is not confirmed: ${message}`,
  );
}

/**
 * `cancel_other`: the newest fire wins, and the agent's older live sessions end before it
 * starts, so two are never live at once. An older one started on the controller is
 * cancelled there (confirmed, or Fly reports its machine gone) and recorded `failed`
 * (`cancelled`, or `machine_lost`); the guard on its status keeps the outcome of one that
 * finished meanwhile, and taking its claim away stops a follow handler mid-poll from
 * writing it back live. An older one whose start is being sent, or whose start's answer was
 * lost, may be live without our knowing its id: this fire waits for it
 * ({@link OthersStillLive}) while it is looked up. When a newer one is live, this fire is
 * {@link Superseded} unless it may itself be live (`start_unknown_at`): then it goes on
 * to look its start up (the newer one waits for it, then cancels it). Throws
 * {@link OthersStillLive} when a cancel is not confirmed.
 */
export async function cancelOthers(
  deps: Deps,
  session: AgentSession,
  target: ControllerTarget,
): Promise<void> {
  const others = await deps.db
    .select()
    .from(agentSessions)
    .where(
      and(
        eq(agentSessions.agentId, session.agentId),
        ne(agentSessions.id, session.id),
        inArray(agentSessions.status, ['creating', 'ready']),
      ),
    );
  const later = others.filter((o) => newer(o, session));
  if (later.length && session.startUnknownAt === null)
    throw new Superseded(
      `a newer session of the agent (${later[0]?.id}) is live (overlap policy cancel_other)`,
    );
  for (const other of others) {
    if (newer(other, session)) continue;
    if (other.controllerSessionId === null) {
      if (other.attempts > 0)
        throw new OthersStillLive(
          `session ${other.id} of the agent is being started and not confirmed yet; this fire waits for it`,
        );
      continue;
    }
    const gone = await cancelOne(deps, target, other);
    await deps.db
      .update(agentSessions)
      .set({
        status: 'failed',
        reason: gone ? 'machine_lost' : 'cancelled',
        lastError: gone
          ? `the session ended with its machine (${gone})`
          : `cancelled by the fire of ${session.scheduledFor.toISOString()} (overlap policy cancel_other)`,
        endedAt: deps.clock.now(),
        // A follow handler may hold this session's claim mid-poll: taking the claim away
        // makes its guarded write find nothing, so it cannot write the session back live.
        ...released(agentSessions),
      })
      .where(
        and(eq(agentSessions.id, other.id), inArray(agentSessions.status, ['creating', 'ready'])),
      );
  }
}
