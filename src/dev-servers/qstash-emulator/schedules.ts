import { Cron } from 'croner';
import { and, asc, eq, lte } from 'drizzle-orm';
import { decodeBase64 } from 'hono/utils/encode';
import { simQstashSchedules } from '../../../db/dev-schema/qstash-emulator.ts';
import type { EmulatorContext } from './context.ts';
import { publishWith } from './publish.ts';

export type ScheduleRow = typeof simQstashSchedules.$inferSelect;

/**
 * Splits `CRON_TZ=<zone> <5 fields>` (QStash's way to give a zone; UTC otherwise) and
 * checks both. Source: upstash/docs `qstash/features/schedules.mdx`. Parsed by croner, the
 * product's one cron library (ADR 0010), as standard five-field cron: a day matching either a
 * restricted day of month or a restricted day of week fires (Vixie cron).
 */
export function parseCron(
  text: string,
): { ok: true; expression: string; tz: string } | { ok: false; error: string } {
  const match = text.trim().match(/^(?:CRON_TZ=(\S+)\s+)?(.+)$/);
  const tz = match?.[1] ?? 'UTC';
  const expression = (match?.[2] ?? '').trim();
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return { ok: false, error: `unknown time zone in CRON_TZ: ${tz}` };
  }
  if (expression.split(/\s+/).length !== 5)
    return { ok: false, error: `cron must have 5 fields: ${expression}` };
  try {
    cronOf(expression, tz);
  } catch (err) {
    return {
      ok: false,
      error: `invalid cron: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return { ok: true, expression, tz };
}

const cronOf = (expression: string, tz: string) =>
  new Cron(expression, { timezone: tz, mode: '5-part', domAndDow: false });

/** The first fire time strictly after `after`. */
export function nextFire(cron: string, after: Date): Date {
  const parsed = parseCron(cron);
  if (!parsed.ok) throw new Error(parsed.error);
  const next = cronOf(parsed.expression, parsed.tz).nextRun(after);
  if (!next) throw new Error(`cron never fires again: ${cron}`);
  return next;
}

/**
 * Publishes one message for each due, unpaused schedule and moves it to its next fire
 * time, in one transaction per batch (`SKIP LOCKED`: several processes never fire the same
 * schedule twice). Missed fires collapse into one, as with QStash. Returns how many fired.
 */
export async function fireDueSchedules(ctx: EmulatorContext): Promise<number> {
  const now = ctx.now();
  const due: Date[] = [];
  const fired = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(simQstashSchedules)
      .where(
        and(eq(simQstashSchedules.paused, false), lte(simQstashSchedules.nextScheduleTime, now)),
      )
      .orderBy(asc(simQstashSchedules.nextScheduleTime))
      .limit(100)
      .for('update', { skipLocked: true });
    for (const s of rows) {
      const result = await publishWith(ctx, tx, {
        destination: s.destination,
        body: decodeBase64(s.bodyBase64),
        scheduleId: s.scheduleId,
        config: {
          method: s.method,
          forward: s.headers,
          delaySeconds: s.delaySeconds,
          notBefore: null,
          retries: s.retries,
          retryDelayExpression: s.retryDelayExpression,
          timeoutSeconds: s.timeoutSeconds,
          callback: s.callback,
          failureCallback: s.failureCallback,
          deduplicationId: null,
          contentBasedDeduplication: false,
        },
      });
      if (result.dueAt) due.push(result.dueAt);
      await tx
        .update(simQstashSchedules)
        .set({
          lastScheduleTime: now,
          nextScheduleTime: nextFire(s.cron, now),
          lastMessageId: result.messageId,
        })
        .where(eq(simQstashSchedules.scheduleId, s.scheduleId));
    }
    return rows.length;
  });
  for (const at of due) ctx.notify(at);
  return fired;
}

export async function nextScheduleAt(ctx: EmulatorContext): Promise<Date | null> {
  const [row] = await ctx.db
    .select({ at: simQstashSchedules.nextScheduleTime })
    .from(simQstashSchedules)
    .where(eq(simQstashSchedules.paused, false))
    .orderBy(asc(simQstashSchedules.nextScheduleTime))
    .limit(1);
  return row?.at ?? null;
}
