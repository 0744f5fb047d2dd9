import type { EmailMessage, Mailer } from '../adapters/email/mailer.ts';
import type { Pusher, PushMessage } from '../adapters/push/pusher.ts';
import type { Deps } from '../deps.ts';
import { retryDelayMs } from '../lib/backoff.ts';
import { type ClaimedDelivery, claimDue, type DeliveryOutcome, recordOutcomes } from './claim.ts';
import type { NoticeChannel } from './model.ts';
import { forgetPushTokens, pushTokensOf } from './push-tokens.ts';
import { type Prepared, prepareMessages } from './render.ts';

/** Deliveries the webapp channel marks per statement (no provider: the row is the banner). */
const WEBAPP_BATCH = 500;

export type DispatchResult = {
  claimed: number;
  sent: number;
  failed: number;
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
 * and record every outcome in one guarded statement. Transient failures go back to
 * `pending` with capped, jittered exponential backoff (never sooner than `Retry-After`);
 * permanent ones and the last attempt are `failed` with the provider's reason.
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
            await recordOutcomes(deps.db, deps.clock.now(), outcomes);
            for (const { outcome } of outcomes) {
              if (outcome.status === 'sent') result.sent++;
              else if (outcome.status === 'failed') result.failed++;
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

/** A transient failure: back to pending after the backoff, or failed on the last attempt. */
function retryOrFail(
  deps: Deps,
  d: ClaimedDelivery,
  reason: string,
  retryAfterMs: number | null,
): DeliveryOutcome {
  if (d.attempts >= d.maxAttempts)
    return { status: 'failed', error: `${reason} (gave up after ${d.attempts} attempts)` };
  const delay = retryDelayMs(d.attempts, { retryAfterMs });
  return {
    status: 'pending',
    error: reason,
    nextAttemptAt: new Date(deps.clock.now().getTime() + delay),
  };
}

async function sendEmails(
  deps: Deps,
  mailer: Mailer,
  ready: Extract<Prepared, { ok: true }>[],
): Promise<Outcomes> {
  const out: Outcomes = [];
  // Deliveries of one earlier request go again together, under that request's key.
  const byBatch = new Map<string, typeof ready>();
  for (const p of ready)
    byBatch.set(p.delivery.batchId, [...(byBatch.get(p.delivery.batchId) ?? []), p]);
  for (const [batchId, group] of byBatch) {
    const messages: EmailMessage[] = group.map((p) => ({
      to: p.contact.email,
      subject: p.message.subject,
      text: p.message.text,
      html: p.message.html,
      tags: { actionId: p.delivery.actionId, kind: p.delivery.kind, deliveryId: p.delivery.id },
    }));
    const results = await mailer.sendBatch(messages, {
      idempotencyKey: idempotencyKeyFor(batchId),
    });
    group.forEach((p, i) => {
      const r = results[i];
      const d = p.delivery;
      if (!r)
        out.push({
          delivery: d,
          outcome: retryOrFail(deps, d, 'no answer for this message', null),
        });
      else if (r.ok)
        out.push({
          delivery: d,
          outcome: { status: 'sent', providerMessageId: r.providerMessageId },
        });
      else if (r.permanent)
        out.push({ delivery: d, outcome: { status: 'failed', error: r.reason } });
      else out.push({ delivery: d, outcome: retryOrFail(deps, d, r.reason, r.retryAfterMs) });
    });
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
        outcome: { status: 'failed', error: 'no push token registered for this user' },
      });
      continue;
    }
    for (const to of mine)
      messages.push({
        p,
        message: {
          to,
          title: p.message.pushTitle,
          body: p.message.pushBody,
          data: { actionId: p.delivery.actionId, kind: p.delivery.kind, deliveryId: p.delivery.id },
        },
      });
  }
  const tickets = new Map<
    string,
    {
      ok: string[];
      tickets: Record<string, string>;
      errors: { permanent: boolean; reason: string; retryAfterMs: number | null }[];
    }
  >();
  const dead: string[] = [];
  for (let i = 0; i < messages.length; i += pusher.maxBatch) {
    const chunk = messages.slice(i, i + pusher.maxBatch);
    const answers = await pusher.sendBatch(chunk.map((m) => m.message));
    chunk.forEach((m, k) => {
      const t = tickets.get(m.p.delivery.id) ?? { ok: [], tickets: {}, errors: [] };
      const a = answers[k];
      if (a?.ok) {
        t.ok.push(a.ticketId);
        t.tickets[a.ticketId] = m.message.to;
      } else if (a) {
        t.errors.push(a);
        if (a.deviceNotRegistered) dead.push(m.message.to);
      } else
        t.errors.push({
          permanent: false,
          reason: 'no ticket for this message',
          retryAfterMs: null,
        });
      tickets.set(m.p.delivery.id, t);
    });
  }
  await forgetPushTokens(deps.db, dead);
  for (const p of ready) {
    const t = tickets.get(p.delivery.id);
    if (!t) continue;
    const d = p.delivery;
    if (t.ok.length)
      out.push({
        delivery: d,
        outcome: { status: 'sent', providerMessageId: t.ok.join(','), pushTickets: t.tickets },
      });
    else if (t.errors.every((e) => e.permanent))
      out.push({
        delivery: d,
        outcome: { status: 'failed', error: t.errors.map((e) => e.reason).join('; ') },
      });
    else {
      const e = t.errors.find((x) => !x.permanent);
      out.push({
        delivery: d,
        outcome: retryOrFail(deps, d, e?.reason ?? 'push failed', e?.retryAfterMs ?? null),
      });
    }
  }
  return out;
}
