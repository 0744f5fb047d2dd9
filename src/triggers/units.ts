import { sql } from 'drizzle-orm';
import { queryRows } from '../../db/client.ts';
import { agentSessions } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { workUnits } from '../lib/work/index.ts';
import { tickDueAgents } from './fire.ts';
import { releaseBuffered } from './follow.ts';
import { sessionDoorbell } from './model.ts';

/** How late a fire or a session step may be before the sweep assumes its doorbell was lost (ms). */
const GRACE_MS = 30_000;

/**
 * The triggers' own upkeep in each sweep: agents due over 30 s ago are fired (their doorbell
 * was lost; the claim is the same one a doorbell makes, so nothing fires twice; at start-up,
 * everything due now), and a `buffered` session whose agent has nothing live any more is
 * released and rung.
 */
async function upkeep(deps: Deps, now: Date, phase: 'sweep' | 'start') {
  const dueBy = phase === 'start' ? now : new Date(now.getTime() - GRACE_MS);
  const fired = await tickDueAgents(deps, { dueBy, budgetMs: 5_000 });
  const orphans = await queryRows<{ agent_id: string }>(
    deps.db,
    sql`select distinct s.agent_id from ${agentSessions} s where s.status = 'buffered'
        and not exists (select 1 from ${agentSessions} o where o.agent_id = s.agent_id
                        and o.status in ('creating', 'ready'))
        limit 500`,
  );
  const released: string[] = [];
  for (const o of orphans) released.push(...(await releaseBuffered(deps.db, o.agent_id, now)));
  let rerung = fired.claimed;
  if (released.length)
    try {
      const purpose = `released-${Math.floor(now.getTime() / 60_000)}`;
      await deps.doorbells.ringMany(
        released.map((id) => sessionDoorbell({ id, attempts: 0, nextCheckAt: now }, purpose)),
      );
      rerung += released.length;
    } catch (err) {
      deps.log.warn('agent_session.sweep_ring_failed', { error: err, count: released.length });
    }
  return { found: fired.claimed + orphans.length, rerung };
}

/**
 * Agent sessions as units of work (src/lib/work): a start or a follow step claims the
 * session with a lease; due at `next_check_at`; the sweep rings one 30 s overdue and returns
 * a passed lease (the step repeats; a start repeats with the same `Idempotency-Key`, so the
 * controller answers with the session the first try started).
 */
export const sessionUnits = workUnits({
  name: 'agent-triggers',
  table: agentSessions,
  status: agentSessions.status,
  live: ['creating', 'ready'],
  dueAt: agentSessions.nextCheckAt,
  graceMs: GRACE_MS,
  doorbells: (sessions, purpose, now) =>
    sessions.map((s) => sessionDoorbell({ id: s.id, attempts: 0, nextCheckAt: now }, purpose)),
  lease: {
    set: (_now, why) => ({
      lastError:
        why === 'expired'
          ? 'a handler stopped before finishing; resumed by the sweep'
          : 'the process handling it stopped; resumed at start',
    }),
  },
  upkeep,
});
