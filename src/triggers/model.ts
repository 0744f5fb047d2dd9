import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { agentSessions, agents } from '../../db/schema/index.ts';
import type { Ring } from '../adapters/queue/doorbells.ts';
import type { Agent } from './plan.ts';

export type { Agent };
export type AgentSession = typeof agentSessions.$inferSelect;

export const FIRES_PATH = '/api/callbacks/agent-fires';
export const SESSIONS_PATH = '/api/callbacks/agent-sessions';

/** Statuses of a session that is not finished. */
export const LIVE_STATUSES = ['buffered', 'creating', 'ready'] as const;

/** Follow polls: 2 s, 4 s, 8 s, … capped at 60 s (by the session's claim count). */
export const followBackoffMs = (attempt: number) =>
  Math.min(60_000, 2_000 * 2 ** Math.max(0, Math.min(attempt - 1, 10)));

/** A start whose controller call failed is tried this many times before the session fails. */
export const START_ATTEMPTS = 3;

export async function getAgentRow(db: Db, id: string): Promise<Agent | null> {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  return row ?? null;
}

export async function getSessionRow(db: Db, id: string): Promise<AgentSession | null> {
  const [row] = await db.select().from(agentSessions).where(eq(agentSessions.id, id));
  return row ?? null;
}

/**
 * The doorbell for an agent's fire time, deduplicated on it: ringing twice for one fire time
 * sends one message, and a doorbell for a time the agent no longer has finds nothing to do.
 */
export function fireDoorbell(agentId: string, fireAt: Date, purpose = 'fire'): Ring {
  return {
    path: FIRES_PATH,
    body: { agentId, fireAt: fireAt.toISOString() },
    notBefore: fireAt,
    deduplicationId: `agent-${agentId}-${purpose}-${fireAt.getTime()}`,
  };
}

/** The doorbell for a session's next start or follow step, after claim number `attempts`. */
export function sessionDoorbell(
  session: Pick<AgentSession, 'id' | 'attempts' | 'nextCheckAt'>,
  purpose = `after-${session.attempts}`,
): Ring {
  return {
    path: SESSIONS_PATH,
    body: { sessionId: session.id },
    notBefore: session.nextCheckAt,
    deduplicationId: `agent-session-${session.id}-${purpose}`,
  };
}

/** How far back missed fires are caught up, unless the agent says otherwise: an hour. */
export const DEFAULT_CATCHUP_WINDOW_SECONDS = 3_600;
/** The longest catch-up window an agent may have: a week. */
export const MAX_CATCHUP_WINDOW_SECONDS = 604_800;

export {
  CATCHUP_POLICIES,
  OVERLAP_POLICIES,
  SESSION_REASONS,
  SESSION_STATUSES,
  SESSION_TRIGGERS,
} from '../../db/schema/index.ts';
