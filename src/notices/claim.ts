import { eq, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import { noticeDeliveries } from '../../db/schema/index.ts';
import { claimAssignments, leaseFree, writeHeldEach } from '../lib/work/index.ts';
import { targetAwaitsStart, targetSettled } from '../scheduler/for-notices.ts';
import { CANCELLED_BEFORE_SENT, type NoticeChannel, type NoticeKind, OVERTAKEN } from './model.ts';
import { deliveryUnits } from './units.ts';

/** A delivery this dispatch holds, with the notices (instances) it is about. */
export type ClaimedDelivery = {
  id: string;
  actionId: string;
  userId: string;
  kind: NoticeKind;
  channel: NoticeChannel;
  claimToken: string;
  attempts: number;
  maxAttempts: number;
  /** The provider request (batch) it belongs to: the idempotency key is made from this. */
  batchId: string;
  notices: { instanceId: string; actionAt: string }[];
};

const live = targetAwaitsStart(sql`n.target_id`);

type ClaimRow = {
  id: string;
  action_id: string;
  user_id: string;
  kind: NoticeKind;
  channel: NoticeChannel;
  claim_token: string;
  attempts: number;
  max_attempts: number;
  batch_id: string;
  notices: { instanceId: string; actionAt: string }[] | string;
};

const toClaimed = (r: ClaimRow): ClaimedDelivery => ({
  id: r.id,
  actionId: r.action_id,
  userId: r.user_id,
  kind: r.kind,
  channel: r.channel,
  claimToken: r.claim_token,
  attempts: Number(r.attempts),
  maxAttempts: Number(r.max_attempts),
  batchId: r.batch_id,
  notices: typeof r.notices === 'string' ? JSON.parse(r.notices) : r.notices,
});

/**
 * Claims one provider request's worth of deliveries of a channel, as the work-unit engine
 * claims (src/lib/work: {@link claimAssignments} — a fresh token, `claimed_at`,
 * `attempts + 1`, a lease until `leaseUntil`): first a batch whose answer is unknown
 * ({@link claimUnknownBatch}: whole, under its key), else up to `limit` due `pending`
 * deliveries as a new batch ({@link claimNewBatch}: key from `batchId`). Empty: nothing due.
 */
export async function claimDue(
  db: Db,
  input: {
    channel: NoticeChannel;
    limit: number;
    now: Date;
    leaseUntil: Date;
    batchId: string;
  },
): Promise<ClaimedDelivery[]> {
  const unknown = await claimUnknownBatch(db, input);
  return unknown.length ? unknown : claimNewBatch(db, input);
}

/**
 * Claims the due batch whose last answer was unknown (its deliveries `sending`, the claim
 * given back, due at the retry time) that has waited longest — **whole** or not at all: every
 * `sending` delivery of that `batch_id`, each locked and free of a live lease, in one
 * statement; if another dispatch holds any of them, nothing. No gate: the batch may have
 * reached its users, and sending the same request under the same key is how we learn it
 * (the provider answers the first result and sends nothing twice). Its notices are those
 * still `sending`.
 */
async function claimUnknownBatch(
  db: Db,
  input: { channel: NoticeChannel; now: Date; leaseUntil: Date },
): Promise<ClaimedDelivery[]> {
  // The engine's "nobody holds a live lease" (its columns named by the table: no alias).
  const free = leaseFree(deliveryUnits, input.now);
  const rows = await queryRows<ClaimRow>(
    db,
    sql`
    with pick as (
      select batch_id from notice_deliveries
      where status = 'sending' and channel = ${input.channel} and batch_id is not null
        and next_attempt_at <= ${input.now.toISOString()}::timestamptz and ${free}
      order by next_attempt_at
      limit 1
    ), members as (
      select id, ${free} as free from notice_deliveries
      where batch_id = (select batch_id from pick) and status = 'sending'
      for update skip locked
    ), whole as (
      select (select count(*) from members where free) = (
        select count(*) from notice_deliveries
        where batch_id = (select batch_id from pick) and status = 'sending') as ok
    ), claimed as (
      update notice_deliveries d
      set ${claimAssignments(input.now, input.leaseUntil)}
      where d.id in (select id from members) and (select ok from whole)
      returning d.id, d.action_id, d.user_id, d.kind, d.channel, d.claim_token, d.attempts,
                d.max_attempts, d.batch_id
    )
    select c.*, coalesce((
      select json_agg(json_build_object('instanceId', n.instance_id, 'actionAt', n.action_at)
                      order by n.action_at)
      from scheduled_action_notices n where n.delivery_id = c.id and n.status = 'sending'),
      '[]'::json) as notices
    from claimed c`,
  );
  return rows.map(toClaimed);
}

/**
 * Claims up to `limit` due `pending` deliveries of one channel, `pending → sending`, as one
 * new batch (`batch_id` = `batchId`: nothing of them was sent, so a new key), in one guarded
 * statement (`FOR UPDATE SKIP LOCKED`: concurrent dispatches take different rows). The
 * same statement re-checks, through the scheduler's {@link targetAwaitsStart}, that a
 * `notice` delivery still has a notice whose target is pending in a live stage of a live
 * action, and moves exactly those notices to `sending` (a `cancelled` one skips that
 * gate: it announces the cancel whatever became of the target). A due delivery that fails
 * the gate is **held** (`next_attempt_at` = infinity: its action is paused or halted, or
 * its targets were reached first) so it never blocks the rows behind it; resuming the
 * action gives held deliveries their due time back ({@link replanNotices}), and the sweep
 * closes the overtaken ones.
 */
async function claimNewBatch(
  db: Db,
  input: { channel: NoticeChannel; limit: number; now: Date; leaseUntil: Date; batchId: string },
): Promise<ClaimedDelivery[]> {
  const now = input.now.toISOString();
  const rows = await queryRows<ClaimRow>(
    db,
    sql`
    with candidates as (
      select d.id, d.kind from notice_deliveries d
      where d.status = 'pending' and d.channel = ${input.channel}
        and d.next_attempt_at <= ${now}::timestamptz
      order by d.next_attempt_at
      limit ${input.limit}
      for update of d skip locked
    ), candidate_notices as materialized (
      -- The candidates' own notices first (≤ a few per delivery, by index), then the gate
      -- for just those: never the gate for every pending target of the table.
      select n.id, n.delivery_id, (n.kind = 'cancelled' or ${live}) as live
      from scheduled_action_notices n
      where n.delivery_id in (select id from candidates) and n.status = 'pending'
    ), gate as (
      select c.id, (c.kind = 'cancelled' or exists (
        select 1 from candidate_notices cn where cn.delivery_id = c.id and cn.live)) as ok
      from candidates c
    ), held as (
      update notice_deliveries d set next_attempt_at = 'infinity'
      from gate g where d.id = g.id and not g.ok
      returning d.id
    ), claimed as (
      update notice_deliveries d
      set status = 'sending', ${claimAssignments(input.now, input.leaseUntil)},
          batch_id = ${input.batchId}::uuid
      from gate g where d.id = g.id and g.ok
      returning d.id, d.action_id, d.user_id, d.kind, d.channel, d.claim_token, d.attempts,
                d.max_attempts, d.batch_id
    ), marked as (
      update scheduled_action_notices n set status = 'sending'
      from claimed c, candidate_notices cn
      where cn.delivery_id = c.id and cn.live and n.id = cn.id
      returning n.delivery_id, n.instance_id, n.action_at
    )
    select c.*, (select count(*) from held) as held, coalesce((
      select json_agg(json_build_object('instanceId', m.instance_id, 'actionAt', m.action_at)
                      order by m.action_at)
      from marked m where m.delivery_id = c.id), '[]'::json) as notices
    from claimed c`,
  );
  return rows.map(toClaimed);
}

/**
 * What became of one claimed delivery — done, not done, or unknown:
 * - `sent` / `failed` / `skipped` (nothing to send it to): it ends so, and its notices with it.
 * - `retry`: it was **not** sent (a rate limit, a refusal that may pass): back to `pending`
 *   with its notices, due at `nextAttemptAt`, its batch forgotten (the next claim makes a
 *   new batch and key: nothing of it was sent, so its members may change).
 * - `unknown`: the request's answer was lost; it may have been sent. It stays `sending` with
 *   its notices (cancel treats it as being sent), the claim given back, due at
 *   `nextAttemptAt`, keeping its `batch_id`: its batch goes again whole under the same key.
 */
export type DeliveryOutcome =
  | {
      status: 'sent';
      providerMessageId: string | null;
      /** Push: ticket id → device token. */
      pushTickets?: Record<string, string>;
    }
  | { status: 'failed'; error: string }
  /** Nothing to send it to (a push to a user with no device): not a failure. */
  | { status: 'skipped'; error: string }
  | { status: 'retry'; error: string; nextAttemptAt: Date }
  | { status: 'unknown'; error: string; nextAttemptAt: Date };

/**
 * Records the outcomes of claimed deliveries, each guarded by its claim (the engine's
 * {@link writeHeldEach}: a delivery whose lease was returned meanwhile is not touched; its
 * new holder decides), and moves each held delivery's `sending` notices with it, in one
 * transaction. Returns the ids that were still held.
 */
export async function recordOutcomes(
  db: Db,
  now: Date,
  outcomes: { delivery: ClaimedDelivery; outcome: DeliveryOutcome }[],
): Promise<Set<string>> {
  if (!outcomes.length) return new Set();
  const writes = outcomes.map(({ delivery, outcome }) => {
    const o = outcome;
    return {
      claim: { id: delivery.id, claimToken: delivery.claimToken },
      set: {
        status: o.status === 'retry' ? 'pending' : o.status === 'unknown' ? 'sending' : o.status,
        nextAttemptAt: o.status === 'retry' || o.status === 'unknown' ? o.nextAttemptAt : now,
        sentAt: o.status === 'sent' ? now : null,
        providerMessageId: o.status === 'sent' ? o.providerMessageId : null,
        pushTickets: o.status === 'sent' ? (o.pushTickets ?? null) : null,
        lastError: o.status === 'sent' ? null : o.error,
        batchId: o.status === 'retry' ? null : delivery.batchId,
      },
    };
  });
  return db.transaction(async (tx) => {
    const held = await writeHeldEach(tx, deliveryUnits, writes, {
      release: true,
      when: eq(noticeDeliveries.status, 'sending'),
    });
    if (!held.length) return new Set<string>();
    const ids = sql`${`{${held.join(',')}}`}::uuid[]`;
    // Their notices follow; an unknown one's stay `sending` (nothing to move). A notice
    // cancelled while it was being sent that turned out not sent ends as cancelled.
    await tx.execute(sql`
      update scheduled_action_notices n
      set status = case when d.status = 'pending' and n.cancelled_at is not null
                        then 'failed' else d.status end,
          last_error = case when d.status = 'pending' and n.cancelled_at is not null
                            then ${CANCELLED_BEFORE_SENT} else d.last_error end,
          sent_at = d.sent_at
      from notice_deliveries d
      where d.id = any(${ids}) and n.delivery_id = d.id
        and n.status = 'sending' and d.status in ('pending', 'sent', 'failed', 'skipped')`);
    await tx.execute(sql`
      update notice_deliveries d set status = 'failed', last_error = ${CANCELLED_BEFORE_SENT}
      where d.id = any(${ids}) and d.status = 'pending' and not exists (
        select 1 from scheduled_action_notices n
        where n.delivery_id = d.id and n.status in ('pending', 'sending'))`);
    return new Set(held);
  });
}

/**
 * Closes due notices that can never be true again (their target was applied, failed,
 * skipped or is being applied before the notice went out) as `failed` with the reason, and
 * the pending deliveries left with nothing to send. Returns how many notices it closed.
 */
export async function closeOvertaken(db: Db, now: Date): Promise<number> {
  const rows = await queryRows<{ closed: string | number }>(
    db,
    sql`
    with n as (
      update scheduled_action_notices n set status = 'failed', last_error = ${OVERTAKEN}
      where n.status = 'pending' and n.kind = 'notice' and n.due_at <= ${now.toISOString()}::timestamptz
        and ${targetSettled(sql`n.target_id`)}
      returning n.id, n.delivery_id
    ), d as (
      update notice_deliveries d set status = 'failed', last_error = ${OVERTAKEN}
      where d.id in (select delivery_id from n) and d.status = 'pending'
        and not exists (
          select 1 from scheduled_action_notices o
          where o.delivery_id = d.id and o.status in ('pending', 'sending')
            and o.id not in (select id from n))
      returning 1
    )
    select count(*) as closed from n`,
  );
  return Number(rows[0]?.closed ?? 0);
}
