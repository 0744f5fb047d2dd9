// One dispatch of due notices: per channel, take a turn, claim a batch, send it, record the
// outcomes. The channels share the worker loop, the step budget and the done / not done /
// unknown rules (docs/notices.md), so they live together.
import type { EmailMessage, Mailer, SendOutcome } from '../adapters/email/mailer.ts';
import type { Pusher, PushMessage, PushTicket } from '../adapters/push/pusher.ts';
import type { Deps } from '../deps.ts';
import { retryDelayMs } from '../lib/backoff.ts';
import { queueOwedFollowUps } from './cancel.ts';
import { type ClaimedDelivery, claimDue, type DeliveryOutcome, recordOutcomes } from './claim.ts';
import type { NoticeChannel } from './model.ts';
import { forgetPushTokens, pushTokensOf } from './push-tokens.ts';
import { type Prepared, prepareMessages } from './render.ts';

/**
 * Why a push notice was `skipped`: its user has no device (no push token registered).
 * Nothing failed; there was nothing to send it to.
 */
export const NO_DEVICE = 'no device: the user has no push token registered';

/** Deliveries the webapp channel marks per statement (no provider: the row is the banner). */
const WEBAPP_BATCH = 500;

export type DispatchResult = {
  claimed: number;
  sent: number;
  failed: number;
  /** Not sent because there was nothing to send them to (push: the user has no device). */
  skipped: number;
  retried: number;
  /** Due work was left when the budget ran out, or a rate limit said wait: ring again then. */
  continueAt: Date | null;
  /** The earliest retry this dispatch scheduled: ring a dispatch for it. */
  retryAt: Date | null;
};

/** The idempotency key of a provider request, derived from its deliveries' `batch_id`. */
export const idempotencyKeyFor = (batchId: string) => `fleetwarden-notice-${batchId}`;

/**
 * Sends due notices: each channel runs `concurrency` workers that, until the step budget
 * is spent, take a turn from the provider's limiter, claim a batch of due deliveries
 * ({@link claimDue}: up to the provider's batch size), render and send it in one request,
 * and record every outcome in one guarded statement. Each request is one batch, and its
 * outcome is done, not done, or unknown: a refusal that may pass goes back to `pending` (a
 * new batch and key next time) after capped, jittered exponential backoff, one delay per
 * batch (never sooner than `Retry-After`); a lost answer stays `sending` and the same batch
 * goes again whole under the same key after that delay (never `failed`: the user may have
 * it); permanent refusals and the last not-done attempt are `failed` with the reason.
 *
 * Returns what it did and, when work is left (budget spent, or the limiter's next turn is
 * further than the budget), when to ring the next dispatch.
 */
export async function dispatchDue(
  deps: Deps,
  options: { budgetMs?: number; channels?: NoticeChannel[] } = {},
): Promise<DispatchResult> {
  const started = Date.now();
  const budgetMs = options.budgetMs ?? deps.config.work.stepBudgetMs;
  const result: DispatchResult = {
    claimed: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    retried: 0,
    continueAt: null,
    retryAt: null,
  };
  const later = (at: Date) => {
    if (!result.continueAt || at < result.continueAt) result.continueAt = at;
  };
  const channels = options.channels ?? ['webapp', 'email', 'push'];
  const workers: Promise<void>[] = [];
  for (const channel of channels) {
    const count = channel === 'webapp' ? 1 : deps.config.notices.concurrency;
    for (let w = 0; w < count; w++)
      workers.push(
        (async () => {
          for (;;) {
            if (Date.now() - started >= budgetMs) {
              // Something may be left: the next dispatch looks (it finds nothing, or goes on).
              later(deps.clock.now());
              return;
            }
            const limiter =
              channel === 'email'
                ? deps.mailer.limiter
                : channel === 'push'
                  ? deps.pusher.limiter
                  : null;
            if (limiter) {
              const turn = await limiter.acquire();
              if (!turn.ok) {
                later(new Date(deps.clock.now().getTime() + turn.retryAfterMs));
                return;
              }
            }
            const now = deps.clock.now();
            const claimed = await claimDue(deps.db, {
              channel,
              limit:
                channel === 'email'
                  ? deps.mailer.maxBatch
                  : channel === 'push'
                    ? deps.pusher.maxBatch
                    : WEBAPP_BATCH,
              now,
              leaseUntil: new Date(now.getTime() + deps.config.work.leaseMs),
              batchId: crypto.randomUUID(),
            });
            if (!claimed.length) return;
            result.claimed += claimed.length;
            const outcomes = await send(deps, channel, claimed);
            const recordedAt = deps.clock.now();
            const held = await recordOutcomes(deps.db, recordedAt, outcomes);
            const sentIds = outcomes
              .filter((o) => o.outcome.status === 'sent' && held.has(o.delivery.id))
              .map((o) => o.delivery.id);
            // Cancelled while it was being sent, and now known sent: the follow-up is owed.
            if (await queueOwedFollowUps(deps.db, sentIds, recordedAt)) later(recordedAt);
            for (const { outcome } of outcomes) {
              if (outcome.status === 'sent') result.sent++;
              else if (outcome.status === 'failed') result.failed++;
              else if (outcome.status === 'skipped') result.skipped++;
              else {
                result.retried++;
                if (!result.retryAt || outcome.nextAttemptAt < result.retryAt)
                  result.retryAt = outcome.nextAttemptAt;
              }
            }
          }
        })(),
      );
  }
  await Promise.all(workers);
  return result;
}

type Outcomes = { delivery: ClaimedDelivery; outcome: DeliveryOutcome }[];

async function send(
  deps: Deps,
  channel: NoticeChannel,
  claimed: ClaimedDelivery[],
): Promise<Outcomes> {
  if (channel === 'webapp')
    // The banner reads the notice rows; "sent" records when the lead window opened for it.
    return claimed.map((delivery) => ({
      delivery,
      outcome: { status: 'sent', providerMessageId: null },
    }));
  const prepared = await prepareMessages(deps.db, claimed);
  const out: Outcomes = [];
  const ready: Extract<Prepared, { ok: true }>[] = [];
  for (const p of prepared) {
    if (p.ok) ready.push(p);
    else out.push({ delivery: p.delivery, outcome: { status: 'failed', error: p.error } });
  }
  if (channel === 'email') out.push(...(await sendEmails(deps, deps.mailer, ready)));
  else out.push(...(await sendPushes(deps, deps.pusher, ready)));
  return out;
}

/**
 * When a batch goes again (one time for all its deliveries, so it goes again whole): capped,
 * jittered exponential backoff after its most-tried member's attempts, never sooner than the
 * provider's `Retry-After` (ms).
 */
function batchRetryAt(deps: Deps, batch: ClaimedDelivery[], retryAfterMs: number | null): Date {
  const attempts = Math.max(1, ...batch.map((d) => d.attempts));
  return new Date(deps.clock.now().getTime() + retryDelayMs(attempts, { retryAfterMs }));
}

/**
 * A refusal that may pass (nothing was sent): back to pending at the batch's retry time, or
 * failed on the last attempt.
 */
function retryOrFail(d: ClaimedDelivery, reason: string, at: Date): DeliveryOutcome {
  if (d.attempts >= d.maxAttempts)
    return { status: 'failed', error: `${reason} (gave up after ${d.attempts} attempts)` };
  return { status: 'retry', error: reason, nextAttemptAt: at };
}

/** Several answers for one delivery (push: one per device) as one outcome. */
type Answer = SendOutcome | PushTicket;

function outcomeOf(
  d: ClaimedDelivery,
  answers: Answer[],
  at: Date,
  extra: { pushTickets?: Record<string, string> } = {},
): DeliveryOutcome {
  const sent = answers.filter((a) => a.status === 'sent');
  if (sent.length)
    return {
      status: 'sent',
      providerMessageId:
        sent
          .map((a) => ('ticketId' in a ? a.ticketId : a.providerMessageId))
          .filter(Boolean)
          .join(',') || null,
      ...extra,
    };
  const unknown = answers.find((a) => a.status === 'unknown');
  if (unknown || !answers.length)
    return {
      status: 'unknown',
      error: unknown?.reason ?? 'answer unknown: no answer for this message',
      nextAttemptAt: at,
    };
  const refused = answers.filter((a) => a.status === 'refused');
  const passing = refused.find((a) => !a.permanent);
  if (passing) return retryOrFail(d, passing.reason, at);
  return { status: 'failed', error: refused.map((a) => a.reason).join('; ') };
}

const retryAfterOf = (answers: Iterable<Answer>) => {
  let most: number | null = null;
  for (const a of answers)
    if (a.status !== 'sent' && a.retryAfterMs !== null) most = Math.max(most ?? 0, a.retryAfterMs);
  return most;
};

async function sendEmails(
  deps: Deps,
  mailer: Mailer,
  ready: Extract<Prepared, { ok: true }>[],
): Promise<Outcomes> {
  const out: Outcomes = [];
  const byBatch = new Map<string, typeof ready>();
  for (const p of ready)
    byBatch.set(p.delivery.batchId, [...(byBatch.get(p.delivery.batchId) ?? []), p]);
  for (const [batchId, group] of byBatch) {
    // One order for every request of the batch (by delivery id), so a batch sent again is
    // the same request and the provider can answer it from its key.
    group.sort((a, b) => (a.delivery.id < b.delivery.id ? -1 : 1));
    const messages: EmailMessage[] = group.map((p) => ({
      id: p.delivery.id,
      to: p.contact.email,
      subject: p.message.subject,
      text: p.message.text,
      html: p.message.html,
      tags: { actionId: p.delivery.actionId, kind: p.delivery.kind, deliveryId: p.delivery.id },
    }));
    const answers = await mailer.sendBatch(messages, {
      idempotencyKey: idempotencyKeyFor(batchId),
    });
    const at = batchRetryAt(
      deps,
      group.map((p) => p.delivery),
      retryAfterOf(answers.values()),
    );
    for (const p of group) {
      const answer = answers.get(p.delivery.id);
      out.push({
        delivery: p.delivery,
        outcome: outcomeOf(p.delivery, answer ? [answer] : [], at),
      });
    }
  }
  return out;
}

async function sendPushes(
  deps: Deps,
  pusher: Pusher,
  ready: Extract<Prepared, { ok: true }>[],
): Promise<Outcomes> {
  const tokens = await pushTokensOf(
    deps.db,
    ready.map((p) => p.delivery.userId),
  );
  const out: Outcomes = [];
  const messages: { p: (typeof ready)[number]; message: PushMessage }[] = [];
  for (const p of ready) {
    const mine = tokens.get(p.delivery.userId) ?? [];
    if (!mine.length) {
      out.push({
        delivery: p.delivery,
        outcome: { status: 'skipped', error: NO_DEVICE },
      });
      continue;
    }
    for (const [i, to] of mine.entries())
      messages.push({
        p,
        message: {
          id: `${p.delivery.id}/${i}`,
          to,
          title: p.message.pushTitle,
          body: p.message.pushBody,
          data: { actionId: p.delivery.actionId, kind: p.delivery.kind, deliveryId: p.delivery.id },
        },
      });
  }
  const answers = new Map<string, { answers: PushTicket[]; tickets: Record<string, string> }>();
  const all: PushTicket[] = [];
  const dead: string[] = [];
  for (let i = 0; i < messages.length; i += pusher.maxBatch) {
    const chunk = messages.slice(i, i + pusher.maxBatch);
    const tickets = await pusher.sendBatch(chunk.map((m) => m.message));
    for (const m of chunk) {
      const a = answers.get(m.p.delivery.id) ?? { answers: [], tickets: {} };
      const ticket: PushTicket = tickets.get(m.message.id) ?? {
        status: 'unknown',
        reason: 'answer unknown: no ticket for this message',
        retryAfterMs: null,
      };
      a.answers.push(ticket);
      all.push(ticket);
      if (ticket.status === 'sent') a.tickets[ticket.ticketId] = m.message.to;
      else if (ticket.status === 'refused' && ticket.deviceNotRegistered) dead.push(m.message.to);
      answers.set(m.p.delivery.id, a);
    }
  }
  await forgetPushTokens(deps.db, dead);
  const at = batchRetryAt(
    deps,
    ready.map((p) => p.delivery),
    retryAfterOf(all),
  );
  for (const p of ready) {
    const a = answers.get(p.delivery.id);
    if (!a) continue;
    out.push({
      delivery: p.delivery,
      outcome: outcomeOf(p.delivery, a.answers, at, { pushTickets: a.tickets }),
    });
  }
  return out;
}
