import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionNoticeSettings, scheduledActionNotices } from '../../db/schema/index.ts';

/**
 * An action's notice lead (minutes) and the targets whose `notice` has not gone out yet
 * (`pending`, held ones included; a `sending` one is on its way), or null when the action
 * notifies nobody. The scheduler asks this when it resumes an action: a stage it would
 * start sooner than the lead from now would outrun those notices, so it moves the stage
 * (src/scheduler/notice-lead.ts). Read-only; call it inside the resuming transaction.
 */
export async function unsentNotices(
  db: Db,
  actionId: string,
): Promise<{ leadMinutes: number; targetIds: string[] } | null> {
  const [settings] = await db
    .select({
      notify: scheduledActionNoticeSettings.notify,
      leadMinutes: scheduledActionNoticeSettings.leadMinutes,
    })
    .from(scheduledActionNoticeSettings)
    .where(eq(scheduledActionNoticeSettings.actionId, actionId));
  if (!settings?.notify) return null;
  const n = scheduledActionNotices;
  const rows = await db
    .selectDistinct({ targetId: n.targetId })
    .from(n)
    .where(and(eq(n.actionId, actionId), eq(n.kind, 'notice'), eq(n.status, 'pending')));
  return { leadMinutes: settings.leadMinutes, targetIds: rows.map((r) => r.targetId) };
}
