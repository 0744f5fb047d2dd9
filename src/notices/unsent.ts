import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionNotices } from '../../db/schema/index.ts';

/** A target whose notice has not gone out, and the warning it was planned to give (ms). */
export type UnsentNotice = { targetId: string; leadMs: number };

/**
 * The targets of an action whose `notice` has not gone out yet (`pending`, held ones
 * included; a `sending` one is on its way), each with the lead its notice was planned to
 * give: its action time minus its due time, in ms (the settings' lead, or less when the
 * action was scheduled closer than that). Empty when the action notifies nobody. The
 * scheduler asks this when it resumes an action: a stage it would start sooner than that
 * lead from now would outrun the notice, so it moves the stage
 * (src/scheduler/notice-lead.ts). Read-only; call it inside the resuming transaction.
 */
export async function unsentNotices(db: Db, actionId: string): Promise<UnsentNotice[]> {
  const n = scheduledActionNotices;
  const rows = await db
    .select({
      targetId: n.targetId,
      leadMs: sql<string>`max(extract(epoch from ${n.actionAt} - ${n.dueAt}) * 1000)::bigint`,
    })
    .from(n)
    .where(and(eq(n.actionId, actionId), eq(n.kind, 'notice'), eq(n.status, 'pending')))
    .groupBy(n.targetId);
  return rows.map((r) => ({ targetId: r.targetId, leadMs: Number(r.leadMs) }));
}
