import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import { targetAwaitsStart, targetSettled } from '../scheduler/notice-gate.ts';
import { type NoticeChannel, type NoticeKind, OVERTAKEN } from './model.ts';

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
  /** The provider request it belongs to: the idempotency key is made from this. */
  batchId: string;
  notices: { instanceId: string; actionAt: string }[];
};

const live = targetAwaitsStart(sql`n.target_id`);

/**
 * Claims up to `limit` due deliveries of one channel, `pending → sending`, in one guarded
 * statement (`FOR UPDATE SKIP LOCKED`: concurrent dispatches take different rows). The
 * same statement re-checks, through the scheduler's {@link targetAwaitsStart}, that a
 * `notice` delivery still has a notice whose target is pending in a live stage of a live
 * action, and moves exactly those notices to `sending` (a `cancelled` one skips that
 * gate: it announces the cancel whatever became of the target). A due delivery that fails
 * the gate is **held** (`next_attempt_at` = infinity: its action is paused or halted, or
 * its targets were reached first) so it never blocks the rows behind it; resuming the
 * action gives held deliveries their due time back ({@link replanNotices}), and the sweep
 * closes the overtaken ones. Each claimed row gets a
 * fresh claim token and a lease until `leaseUntil`; a delivery keeps the `batch_id` of its
 * first request (a retry sends the same idempotency key), else takes `batchId`.
 * Deliveries of an earlier batch come first, so a retried batch stays together.
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
  const now = input.now.toISOString();
  const rows = await queryRows<{
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
  }>(
    db,
    sql`
    with candidates as (
      select d.id, d.kind from notice_deliveries d
      where d.status = 'pending' and d.channel = ${input.channel}
        and d.next_attempt_at <= ${now}::timestamptz
      order by d.batch_id nulls last, d.next_attempt_at
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
      set status = 'sending', claim_token = gen_random_uuid(), claimed_at = ${now}::timestamptz,
          attempts = d.attempts + 1, lease_until = ${input.leaseUntil.toISOString()}::timestamptz,
          batch_id = coalesce(d.batch_id, ${input.batchId}::uuid)
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
  return rows.map((r) => ({
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
  }));
}

/** What became of one claimed delivery. */
export type DeliveryOutcome =
  | {
      status: 'sent';
      providerMessageId: string | null;
      /** Push: ticket id → device token. */
      pushTickets?: Record<string, string>;
    }
  | { status: 'failed'; error: string }
  | { status: 'pending'; error: string; nextAttemptAt: Date };

/**
 * Records the outcomes of claimed deliveries in one statement, each guarded by its claim
 * token (a delivery whose lease the sweep returned meanwhile is not touched: its new
 * holder decides). Each delivery's `sending` notices follow it; a retry (`pending`) gives
 * the claim back and keeps `batch_id`. Returns the ids that were still held.
 */
export async function recordOutcomes(
  db: Db,
  now: Date,
  outcomes: { delivery: ClaimedDelivery; outcome: DeliveryOutcome }[],
): Promise<Set<string>> {
  if (!outcomes.length) return new Set();
  const rows = outcomes.map(({ delivery, outcome }) => ({
    id: delivery.id,
    token: delivery.claimToken,
    status: outcome.status,
    next_at: outcome.status === 'pending' ? outcome.nextAttemptAt.toISOString() : null,
    pid: outcome.status === 'sent' ? outcome.providerMessageId : null,
    tickets: outcome.status === 'sent' ? (outcome.pushTickets ?? null) : null,
    err: outcome.status === 'sent' ? null : outcome.error,
  }));
  const at = now.toISOString();
  const held = await queryRows<{ id: string }>(
    db,
    sql`
    with x as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(id uuid, token uuid, status text, next_at timestamptz, pid text, err text, tickets jsonb)
    ), d as (
      update notice_deliveries d
      set status = x.status,
          next_attempt_at = coalesce(x.next_at, d.next_attempt_at),
          sent_at = case when x.status = 'sent' then ${at}::timestamptz end,
          provider_message_id = coalesce(x.pid, d.provider_message_id),
          push_tickets = coalesce(x.tickets, d.push_tickets),
          last_error = x.err,
          lease_until = null,
          claim_token = case when x.status = 'pending' then null else d.claim_token end
      from x
      where d.id = x.id and d.claim_token = x.token and d.status = 'sending'
      returning d.id, d.status, d.last_error
    ), n as (
      update scheduled_action_notices n
      set status = d.status, last_error = d.last_error,
          sent_at = case when d.status = 'sent' then ${at}::timestamptz end
      from d where n.delivery_id = d.id and n.status = 'sending'
      returning 1
    )
    select d.id, (select count(*) from n) as notices from d`,
  );
  return new Set(held.map((h) => h.id));
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
