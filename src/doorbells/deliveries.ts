import { QSTASH_DLQ_ID } from '../adapters/outside-ids.ts';
import type { DeadLetter, DoorbellLog, DoorbellSchedule } from '../adapters/queue/doorbells.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { recentSweepRuns, type SweepRun } from './run.ts';

/** One doorbell as the Deliveries page shows it, folded from QStash's event log. */
export type DoorbellSummary = {
  messageId: string;
  path: string;
  dueAt: Date | null;
  deliveredAt: Date | null;
  attempts: number;
  state: string;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: Date;
};

/** Folds events (newest first) into one summary per message, newest message first. */
export function summarizeDoorbells(events: DoorbellLog[]): DoorbellSummary[] {
  const byMessage = new Map<string, DoorbellSummary>();
  for (const e of [...events].reverse()) {
    let s = byMessage.get(e.messageId);
    if (!s) {
      s = {
        messageId: e.messageId,
        path: new URL(e.url).pathname,
        dueAt: null,
        deliveredAt: null,
        attempts: 0,
        state: e.state,
        lastStatus: null,
        lastError: null,
        updatedAt: e.time,
      };
      byMessage.set(e.messageId, s);
    }
    if (e.state === 'CREATED') s.dueAt = e.nextDeliveryTime ?? e.time;
    if (e.state === 'DELIVERED') s.deliveredAt = e.time;
    if (e.state === 'DELIVERED' || e.state === 'ERROR') {
      s.attempts++;
      s.lastStatus = e.responseStatus;
      s.lastError = e.error;
    }
    s.state = e.state;
    s.updatedAt = e.time;
  }
  return [...byMessage.values()].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
}

export type DeliveriesOverview = {
  doorbells: DoorbellSummary[];
  deadLetters: DeadLetter[];
  schedules: DoorbellSchedule[];
  sweeps: SweepRun[];
  /** What could not be read from QStash, per section. */
  errors: { doorbells?: string; deadLetters?: string; schedules?: string };
};

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Everything the Deliveries page shows: recent doorbells and the DLQ and schedules read
 * from QStash (or the emulator) through its API, and the last sweep runs from our
 * database. A QStash section that cannot be read is reported, not fatal.
 */
export async function deliveriesOverview(
  deps: Deps,
  filter: { path?: string; state?: string },
): Promise<DeliveriesOverview> {
  const errors: DeliveriesOverview['errors'] = {};
  const [events, deadLetters, schedules, sweeps] = await Promise.all([
    deps.doorbellConsole.recentEvents(1000).catch((err) => {
      errors.doorbells = message(err);
      return [];
    }),
    deps.doorbellConsole.deadLetters().catch((err) => {
      errors.deadLetters = message(err);
      return [];
    }),
    deps.doorbellConsole.schedules().catch((err) => {
      errors.schedules = message(err);
      return [];
    }),
    recentSweepRuns(deps.db, 20),
  ]);
  const path = filter.path?.trim().toLowerCase();
  const doorbells = summarizeDoorbells(events)
    .filter((d) => !path || d.path.toLowerCase().includes(path))
    .filter((d) => !filter.state || d.state === filter.state)
    .slice(0, 100);
  return { doorbells, deadLetters, schedules, sweeps, errors };
}

/**
 * The shape a dead-letter id must have before it is passed on (QStash's `<ms>-<seq>`, see
 * src/adapters/outside-ids.ts): anything else is refused with 400, never sent.
 */
export const DLQ_ID = QSTASH_DLQ_ID;

/** Re-publishes a dead-lettered doorbell (a new message, same body). Audited. */
export async function retryDeadLetter({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { dlqId: string };
}): Promise<string> {
  const messageId = await ctx.doorbellConsole.retryDeadLetter(input.dlqId);
  await recordAudit(ctx.db, ctx, {
    action: 'doorbell.dlq_retry',
    subjectType: 'dlq_message',
    subjectId: input.dlqId,
    payload: { messageId },
  });
  return messageId;
}

/** Removes a dead-lettered doorbell for good. Audited. */
export async function deleteDeadLetter({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { dlqId: string };
}): Promise<void> {
  await ctx.doorbellConsole.deleteDeadLetter(input.dlqId);
  await recordAudit(ctx.db, ctx, {
    action: 'doorbell.dlq_delete',
    subjectType: 'dlq_message',
    subjectId: input.dlqId,
  });
}
