import { and, eq, gt, inArray, isNotNull, or } from 'drizzle-orm';
import { agentSessions } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { MachineLostListener } from '../fleet/machine-lost.ts';
import { lossInWords } from '../fleet/machine-lost.ts';
import { released } from '../lib/work/index.ts';
import { releaseBuffered } from './follow.ts';
import { sessionDoorbell } from './model.ts';

/**
 * Reconcile gave up an instance's machine (src/fleet/machine-lost.ts). When Fly's listing
 * confirms it down, the instance's live sessions that were sent to its controller (started,
 * or a start whose answer is not recorded yet) end `failed`, `machine_lost`, with the reason
 * (nothing of them is live); their claims are taken away, so a handler mid-call cannot
 * write them back live. A `buffered` fire waiting on them is released (and rung: its start
 * finds the instance not running and is skipped). A host that stays unreachable confirms
 * nothing: those sessions hold nothing, and their follow asks Fly itself.
 */
export const endSessionsOnLostMachine: MachineLostListener = async (deps, lost) => {
  if (!lost.confirmedDown) return;
  const ended = await endLiveSessions(
    deps,
    lost.instanceId,
    `the session ended with its machine: reconcile found that ${lossInWords(lost)}`,
  );
  if (ended)
    deps.log.info('agent_session.machine_lost', {
      instanceId: lost.instanceId,
      cause: lost.cause,
      ended,
    });
};

/**
 * Ends the instance's live sessions that were sent to its controller `failed`,
 * `machine_lost`, with `lastError` (their machine is known to run nothing), taking their
 * claims away, and releases the `buffered` fires that waited on them (rung: their start
 * finds the instance not running and is skipped). Returns how many ended.
 */
export async function endLiveSessions(
  deps: Pick<Deps, 'db' | 'clock' | 'log' | 'doorbells'>,
  instanceId: string,
  lastError: string,
): Promise<number> {
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx) => {
    const ended = await tx
      .update(agentSessions)
      .set({
        status: 'failed',
        reason: 'machine_lost',
        lastError,
        endedAt: now,
        ...released(agentSessions),
      })
      .where(
        and(
          eq(agentSessions.instanceId, instanceId),
          inArray(agentSessions.status, ['creating', 'ready']),
          or(isNotNull(agentSessions.controllerSessionId), gt(agentSessions.attempts, 0)),
        ),
      )
      .returning({ id: agentSessions.id, agentId: agentSessions.agentId });
    const toStart: string[] = [];
    for (const agentId of new Set(ended.map((s) => s.agentId)))
      toStart.push(...(await releaseBuffered(tx, agentId, now)));
    return { ended, toStart };
  });
  if (result.toStart.length)
    await deps.doorbells
      .ringMany(
        result.toStart.map((id) =>
          sessionDoorbell({ id, attempts: 0, nextCheckAt: now }, `machine-lost-${now.getTime()}`),
        ),
      )
      .catch((err) => deps.log.warn('agent_session.ring_failed', { error: err }));
  return result.ended.length;
}
