import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import { agentSessions, agents } from '../../db/schema/index.ts';
import { LIVE_STATUSES } from './model.ts';
import { decideOverlap, type LiveSession } from './overlap.ts';
import { planFires } from './plan.ts';

/** A session a claim created in `creating`: the caller starts it through the controller. */
export type CreatedSession = { id: string; agentId: string; instanceId: string };

export type ClaimResult = {
  /** Agents whose due fire times this claim took. */
  claimed: { id: string; next: Date | null }[];
  /** Sessions to start now. */
  toStart: CreatedSession[];
  /** Fires recorded `skipped` by the overlap policy, and fires held back by `buffer_one`. */
  skipped: number;
  buffered: number;
  /** Agents disabled because their expression or zone no longer parses. */
  disabled: number;
};

/**
 * Claims due fire times, once each, whatever the number of processes and doorbells: in one
 * transaction, locks enabled agents due by `dueBy` (`FOR UPDATE SKIP LOCKED`: a row another
 * claimer holds is left to it, never waited on), works out each one's fires
 * ({@link planFires}), makes the overlap decision against its live sessions, moves
 * `next_fire_at` on (guarded by the value read, `where next_fire_at = seen`) and inserts
 * the sessions (`creating`, `buffered` or `skipped`; unique per fire time). An agent whose
 * expression or zone no longer parses is disabled with the reason in the same transaction
 * and fires nothing. `last_fired_at` is not written here: only a session the controller
 * started writes it (src/triggers/start.ts). Times are the app's clock.
 */
export async function claimDueFires(
  db: Db,
  input: { now: Date; dueBy?: Date; agentId?: string; limit: number },
): Promise<ClaimResult> {
  const { now } = input;
  return db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(agents)
      .where(
        and(
          eq(agents.enabled, true),
          lte(agents.nextFireAt, input.dueBy ?? now),
          input.agentId ? eq(agents.id, input.agentId) : undefined,
        ),
      )
      .orderBy(asc(agents.nextFireAt))
      .limit(input.limit)
      .for('update', { skipLocked: true });
    const result: ClaimResult = { claimed: [], toStart: [], skipped: 0, buffered: 0, disabled: 0 };
    if (!due.length) return result;

    const plans = due.map((agent) => ({ agent, plan: planFires(agent, now) }));
    const broken = plans.flatMap((p) =>
      p.plan.kind === 'broken'
        ? [{ id: p.agent.id, seen: p.agent.nextFireAt, reason: p.plan.reason }]
        : [],
    );
    const firing = plans.flatMap((p) =>
      p.plan.kind === 'fire' ? [{ agent: p.agent, plan: p.plan }] : [],
    );

    if (broken.length) {
      await tx.execute(sql`
        update agents a set enabled = false, next_fire_at = null, updated_at = ${now}::timestamptz,
          disabled_reason = 'Disabled: ' || v.reason, last_outcome = 'disabled: ' || v.reason
        from jsonb_to_recordset(${JSON.stringify(broken)}::jsonb) as v(id uuid, seen timestamptz, reason text)
        where a.id = v.id and a.next_fire_at = v.seen`);
      result.disabled = broken.length;
    }
    if (!firing.length) return result;

    const withFires = firing.filter((f) => f.plan.fires.length > 0).map((f) => f.agent.id);
    const live = withFires.length
      ? await tx
          .select({
            id: agentSessions.id,
            agentId: agentSessions.agentId,
            status: agentSessions.status,
          })
          .from(agentSessions)
          .where(
            and(
              inArray(agentSessions.agentId, withFires),
              inArray(agentSessions.status, [...LIVE_STATUSES]),
            ),
          )
      : [];
    const liveByAgent = new Map<string, LiveSession[]>();
    for (const s of live) liveByAgent.set(s.agentId, [...(liveByAgent.get(s.agentId) ?? []), s]);

    const rows: (typeof agentSessions.$inferInsert)[] = [];
    const outcomes: { id: string; seen: Date | null; next: Date | null; outcome: string | null }[] =
      [];
    for (const { agent, plan } of firing) {
      const decisions = decideOverlap(
        agent.overlapPolicy,
        liveByAgent.get(agent.id) ?? [],
        plan.fires,
      );
      for (const d of decisions)
        rows.push({
          agentId: agent.id,
          instanceId: agent.instanceId,
          trigger: 'cron',
          scheduledFor: d.scheduledFor,
          status: d.status,
          reason: d.reason,
          prompt: agent.prompt,
          nextCheckAt: now,
          ...(d.status === 'skipped' ? { endedAt: now } : {}),
        });
      outcomes.push({
        id: agent.id,
        seen: agent.nextFireAt,
        next: plan.next,
        outcome: outcomeOf(decisions, plan.dropped),
      });
    }

    const moved = await queryRows<{ id: string }>(
      tx,
      sql`
      update agents a set next_fire_at = v.next, updated_at = ${now}::timestamptz,
        last_outcome = coalesce(v.outcome, a.last_outcome)
      from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) as v(id uuid, seen timestamptz, next timestamptz, outcome text)
      where a.id = v.id and a.next_fire_at = v.seen
      returning a.id`,
    );
    const movedIds = new Set(moved.map((r) => r.id));
    result.claimed = outcomes
      .filter((o) => movedIds.has(o.id))
      .map((o) => ({ id: o.id, next: o.next }));

    const kept = rows.filter((r) => movedIds.has(r.agentId));
    if (kept.length) {
      // The unique index on (agent, fire time) for `cron` makes a fire time that was already
      // served (an agent edited back to an earlier schedule) insert nothing.
      const inserted = await tx.insert(agentSessions).values(kept).onConflictDoNothing().returning({
        id: agentSessions.id,
        agentId: agentSessions.agentId,
        instanceId: agentSessions.instanceId,
        status: agentSessions.status,
      });
      for (const s of inserted) {
        if (s.status === 'creating')
          result.toStart.push({ id: s.id, agentId: s.agentId, instanceId: s.instanceId });
        if (s.status === 'skipped') result.skipped++;
        if (s.status === 'buffered') result.buffered++;
      }
    }
    return result;
  });
}

/** `last_outcome` for fires that started nothing; null leaves it to the start step. */
function outcomeOf(decisions: { status: string }[], dropped: number): string | null {
  if (decisions.some((d) => d.status === 'creating')) return null;
  if (decisions.some((d) => d.status === 'buffered'))
    return 'buffered: waiting for the live session';
  if (decisions.length) return 'skipped: overlap';
  if (dropped)
    return `skipped: ${dropped} missed fire time${dropped === 1 ? '' : 's'} (catch-up policy)`;
  return null;
}
