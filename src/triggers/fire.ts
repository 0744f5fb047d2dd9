import type { Ring } from '../adapters/queue/doorbells.ts';
import type { Deps } from '../deps.ts';
import { instanceTargets } from '../fleet/instances.ts';
import { type ClaimResult, claimDueFires } from './claim-fires.ts';
import { followSession } from './follow.ts';
import { fireDoorbell, getAgentRow, getSessionRow, sessionDoorbell } from './model.ts';
import { startSession } from './start.ts';

/** Early by at most this (ms), a fire doorbell waits for its time instead of ringing again. */
const EARLY_WAIT_MS = 5_000;
/** Sessions a tick starts at once. */
const START_CONCURRENCY = 16;

export type FireRun =
  | { outcome: 'fired'; started: number; skipped: number; buffered: number; next: Date | null }
  | { outcome: 'disabled' }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'nothing'; reason: 'unknown' | 'not_due' | 'taken' };

/**
 * An agent's fire doorbell (`fireAt` is the time it was rung for): claims the agent's due
 * fire times ({@link claimDueFires}: one claimer per fire time, whatever the duplicates),
 * rings the doorbell for its next fire time, then starts the sessions the claim created. A
 * doorbell for a fire time the agent no longer has (edited, paused, already fired) does
 * nothing; one that arrives early (QStash's clock ahead of ours) waits up to 5 s, or rings
 * again for the due time, deduplicated on it.
 */
export async function fireAgent(
  deps: Deps,
  input: { agentId: string; fireAt: Date },
): Promise<FireRun> {
  let claim = await claimDueFires(deps.db, {
    now: deps.clock.now(),
    agentId: input.agentId,
    limit: 1,
  });
  if (!claim.claimed.length && !claim.disabled) {
    const agent = await getAgentRow(deps.db, input.agentId);
    if (!agent) return { outcome: 'nothing', reason: 'unknown' };
    const due = agent.nextFireAt;
    if (!agent.enabled || !due || due.getTime() !== input.fireAt.getTime())
      return { outcome: 'nothing', reason: 'not_due' };
    const ahead = due.getTime() - deps.clock.now().getTime();
    if (ahead <= 0) return { outcome: 'nothing', reason: 'taken' };
    if (ahead > EARLY_WAIT_MS) {
      await ringQuietly(deps, fireDoorbell(agent.id, due, 'early'));
      return { outcome: 'early', dueAt: due };
    }
    await new Promise((resolve) => setTimeout(resolve, ahead));
    claim = await claimDueFires(deps.db, {
      now: deps.clock.now(),
      agentId: input.agentId,
      limit: 1,
    });
    if (!claim.claimed.length && !claim.disabled) return { outcome: 'nothing', reason: 'taken' };
  }
  if (claim.disabled) return { outcome: 'disabled' };
  const next = claim.claimed[0]?.next ?? null;
  if (next) await ringQuietly(deps, fireDoorbell(input.agentId, next));
  const started = await startAll(deps, claim);
  return { outcome: 'fired', started, skipped: claim.skipped, buffered: claim.buffered, next };
}

/**
 * Fires every enabled agent due by `dueBy` (default now), `batch` agents per claim, until
 * none is left or `budgetMs` is spent; any number of tickers may run at once (each claim
 * skips rows another holds). Each claimed agent's next doorbell is rung in one batch request
 * and its sessions are started, {@link START_CONCURRENCY} at a time. Returns the totals.
 */
export async function tickDueAgents(
  deps: Deps,
  options: { dueBy?: Date; batch?: number; budgetMs?: number } = {},
): Promise<{ claimed: number; started: number; skipped: number; disabled: number }> {
  const started0 = performance.now();
  const total = { claimed: 0, started: 0, skipped: 0, disabled: 0 };
  for (;;) {
    const now = deps.clock.now();
    const claim = await claimDueFires(deps.db, {
      now,
      dueBy: options.dueBy ?? now,
      limit: options.batch ?? 200,
    });
    if (!claim.claimed.length && !claim.disabled) break;
    total.claimed += claim.claimed.length;
    total.skipped += claim.skipped;
    total.disabled += claim.disabled;
    const rings = claim.claimed.flatMap((c) => (c.next ? [fireDoorbell(c.id, c.next)] : []));
    if (rings.length)
      await deps.doorbells.ringMany(rings).catch((err) => {
        deps.log.warn('agent.ring_failed', { count: rings.length, error: err });
      });
    total.started += await startAll(deps, claim);
    if (performance.now() - started0 > (options.budgetMs ?? 5_000)) break;
  }
  return total;
}

/** Starts a claim's sessions, a few at a time; returns how many the controller started. */
async function startAll(deps: Deps, claim: ClaimResult): Promise<number> {
  let started = 0;
  const queue = [...claim.toStart];
  const rings: Ring[] = [];
  const targets = await instanceTargets(deps.db, [...new Set(queue.map((s) => s.instanceId))]);
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const run = await startSession(deps, s.id, { rings, targets });
      if (run.outcome === 'started') started++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, queue.length) }, worker));
  if (rings.length)
    await deps.doorbells.ringMany(rings).catch((err) => {
      // The sweep polls them (30 s late) when these doorbells are lost.
      deps.log.warn('agent_session.ring_failed', { count: rings.length, error: err });
    });
  return started;
}

export type SessionStepRun =
  | { outcome: 'unknown' | 'finished' | 'held' }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'started' | 'skipped' | 'failed' | 'retry' | 'live' | 'ended' | 'not_claimed' };

/**
 * A session's doorbell: starts it (`creating`, not yet asked of the controller) or polls it
 * (started, unfinished). A session that ended starts the agent's buffered one.
 */
export async function runSessionStep(deps: Deps, sessionId: string): Promise<SessionStepRun> {
  const session = await getSessionRow(deps.db, sessionId);
  if (!session) return { outcome: 'unknown' };
  if (!['creating', 'ready'].includes(session.status)) return { outcome: 'finished' };
  if (session.nextCheckAt > deps.clock.now()) {
    await ringQuietly(deps, sessionDoorbell(session, `early-${session.nextCheckAt.getTime()}`));
    return { outcome: 'early', dueAt: session.nextCheckAt };
  }
  if (session.controllerSessionId === null) {
    const run = await startSession(deps, sessionId);
    return { outcome: run.outcome };
  }
  const run = await followSession(deps, sessionId);
  if (run.outcome !== 'not_claimed') for (const id of run.released) await startSession(deps, id);
  return { outcome: run.outcome };
}

async function ringQuietly(deps: Deps, ring: Parameters<Deps['doorbells']['ring']>[0]) {
  try {
    await deps.doorbells.ring(ring);
  } catch (err) {
    deps.log.warn('agent.ring_failed', { error: err, path: ring.path });
  }
}
