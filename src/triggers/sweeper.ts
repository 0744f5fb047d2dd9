import { and, inArray, lt, sql } from 'drizzle-orm';
import { queryRows } from '../../db/client.ts';
import { agentSessions } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { leaseExpired, leaseFree, released } from '../lib/claims.ts';
import { tickDueAgents } from './fire.ts';
import { releaseBuffered } from './follow.ts';
import { sessionDoorbell } from './model.ts';

/** How late a fire or a session step may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;
const ACTIVE = ['creating', 'ready'] as ('creating' | 'ready')[];

/**
 * The triggers' part of the every-minute sweep: fires agents due over 30 s ago (their
 * doorbell was lost; the claim is the same one a doorbell makes, so nothing fires twice),
 * returns sessions whose start or poll lease passed, rings session steps due over 30 s ago,
 * and releases a `buffered` session whose agent has nothing live any more.
 */
export const triggersSweeper: Sweeper = {
  name: 'agent-triggers',
  async sweep(deps: Deps, now: Date) {
    const grace = new Date(now.getTime() - GRACE_SECONDS * 1000);
    const fired = await tickDueAgents(deps, { dueBy: grace, budgetMs: 5_000 });
    const leases = await deps.db
      .update(agentSessions)
      .set({ ...released, lastError: 'a handler stopped before finishing; resumed by the sweep' })
      .where(and(inArray(agentSessions.status, ACTIVE), leaseExpired(agentSessions, now)))
      .returning({ id: agentSessions.id });
    const orphans = await queryRows<{ agent_id: string }>(
      deps.db,
      sql`select distinct s.agent_id from ${agentSessions} s where s.status = 'buffered'
          and not exists (select 1 from ${agentSessions} o where o.agent_id = s.agent_id
                          and o.status in ('creating', 'ready'))
          limit 500`,
    );
    const releasedIds: string[] = [];
    for (const o of orphans) releasedIds.push(...(await releaseBuffered(deps.db, o.agent_id, now)));
    const overdue = await deps.db
      .select({ id: agentSessions.id })
      .from(agentSessions)
      .where(
        and(
          inArray(agentSessions.status, ACTIVE),
          lt(agentSessions.nextCheckAt, grace),
          leaseFree(agentSessions, now),
        ),
      )
      .orderBy(agentSessions.nextCheckAt)
      .limit(500);
    const minute = Math.floor(now.getTime() / 60_000);
    const toRing = [...overdue.map((s) => s.id), ...releasedIds];
    let rerung = 0;
    if (toRing.length)
      try {
        await deps.doorbells.ringMany(
          toRing.map((id) => ({
            ...sessionDoorbell({ id, attempts: 0, nextCheckAt: now }, `sweep-${minute}`),
          })),
        );
        rerung = toRing.length;
      } catch (err) {
        deps.log.warn('agent_session.sweep_ring_failed', { error: err, count: toRing.length });
      }
    return {
      found: fired.claimed + overdue.length + orphans.length,
      rerung: rerung + fired.claimed,
      leasesReturned: leases.length,
    };
  },
};
