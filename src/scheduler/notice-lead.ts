import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionStages, scheduledActionTargets } from '../../db/schema/index.ts';
import { unsentNotices } from '../notices/unsent.ts';
import type { Stage } from './model.ts';

const t = scheduledActionTargets;

export type KeptLead = {
  /** Pending stages moved later (their new `scheduledAt`), to ring at their new time. */
  moved: Stage[];
  /** Running stages whose not-yet-announced targets wait until `at`. */
  waiting: { stage: Stage; at: Date }[];
  /** Every target whose start moved, with its new time, for the notices to follow. */
  replanned: { targetId: string; actionAt: Date }[];
  leadMinutes: number;
};

/**
 * On resume, inside its transaction (the action's stages locked): keeps every unsent
 * notice's lead. Users were promised `leadMinutes` of warning; a stage whose time has come
 * (or comes sooner than the lead from now) while its targets' notices are still unsent —
 * they were held while the action was paused or halted — would restart them unannounced.
 * So such a stage moves later to `now + lead` (its notices then go out now, saying the new
 * time), and every later pending stage moves by at least as much, keeping the spacing
 * between them. A stage already running keeps its time; its pending targets whose notice
 * is unsent wait until `now + lead`. `stages`: the action's open stages with the times
 * they would run at (any order). Nothing moves when the action notifies nobody, or every
 * notice went out. Targets' `next_attempt_at` only ever moves later.
 */
export async function keepNoticeLead(
  tx: Db,
  input: { actionId: string; stages: Stage[]; now: Date },
): Promise<KeptLead> {
  const none: KeptLead = { moved: [], waiting: [], replanned: [], leadMinutes: 0 };
  const unsent = await unsentNotices(tx, input.actionId);
  if (!unsent || unsent.targetIds.length === 0 || unsent.leadMinutes === 0) return none;
  const earliest = new Date(input.now.getTime() + unsent.leadMinutes * 60_000);
  const unannounced = sql`${t.id} in (select jsonb_array_elements_text(${JSON.stringify(unsent.targetIds)}::jsonb)::uuid)`;
  const stageIds = input.stages.map((s) => s.id);
  if (!stageIds.length) return none;
  const withUnsent = new Set(
    (
      await tx
        .selectDistinct({ stageId: t.stageId })
        .from(t)
        .where(and(inArray(t.stageId, stageIds), eq(t.status, 'pending'), unannounced))
    ).map((r) => r.stageId),
  );
  const out: KeptLead = { ...none, leadMinutes: unsent.leadMinutes };
  let shiftMs = 0;
  for (const stage of [...input.stages].sort((a, b) => a.index - b.index)) {
    if (stage.status === 'running') {
      if (!withUnsent.has(stage.id)) continue;
      const held = await tx
        .update(t)
        .set({
          nextAttemptAt: sql`greatest(${t.nextAttemptAt}, ${earliest.toISOString()}::timestamptz)`,
        })
        .where(and(eq(t.stageId, stage.id), eq(t.status, 'pending'), unannounced))
        .returning({ id: t.id });
      for (const h of held) out.replanned.push({ targetId: h.id, actionAt: earliest });
      out.waiting.push({ stage, at: earliest });
      continue;
    }
    if (stage.status !== 'pending') continue;
    if (withUnsent.has(stage.id))
      shiftMs = Math.max(shiftMs, earliest.getTime() - stage.scheduledAt.getTime());
    if (shiftMs <= 0) continue;
    const at = new Date(stage.scheduledAt.getTime() + shiftMs);
    const [row] = await tx
      .update(scheduledActionStages)
      .set({ scheduledAt: at })
      .where(eq(scheduledActionStages.id, stage.id))
      .returning();
    const targets = await tx
      .update(t)
      .set({ nextAttemptAt: sql`greatest(${t.nextAttemptAt}, ${at.toISOString()}::timestamptz)` })
      .where(and(eq(t.stageId, stage.id), eq(t.status, 'pending')))
      .returning({ id: t.id });
    for (const x of targets) out.replanned.push({ targetId: x.id, actionAt: at });
    if (row) out.moved.push(row);
  }
  return out;
}
