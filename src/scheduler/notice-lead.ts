import { and, eq, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
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
  /** The longest warning a moved or waiting stage's notices promised (minutes, rounded). */
  leadMinutes: number;
};

/**
 * On resume, inside its transaction (the action's stages locked): keeps every unsent
 * notice's lead. A notice promised its user a warning (its action time minus its due time:
 * the settings' lead, or less when the action was scheduled closer than that); notices are
 * held while the action is paused or halted, so a stage whose time has come, or comes
 * sooner than that lead from now, while its targets' notices are unsent would restart them
 * unannounced. Such a stage moves later, to now + lead (its notices then go out now,
 * naming the new time), and every later pending stage moves by at least as much, keeping
 * the spacing between them. A stage already running keeps its time; its pending targets
 * whose notice is unsent wait until now + lead. `stages`: the action's open stages with the
 * times they would run at (any order). Nothing moves when the action notifies nobody or
 * every notice went out. Targets' `next_attempt_at` only ever moves later.
 */
export async function keepNoticeLead(
  tx: Db,
  input: { actionId: string; stages: Stage[]; now: Date },
): Promise<KeptLead> {
  const out: KeptLead = { moved: [], waiting: [], replanned: [], leadMinutes: 0 };
  const unsent = (await unsentNotices(tx, input.actionId)).filter((u) => u.leadMs > 0);
  const stageIds = input.stages.map((s) => s.id);
  if (!unsent.length || !stageIds.length) return out;
  const lead = sql`jsonb_to_recordset(${JSON.stringify(
    unsent.map((u) => ({ target_id: u.targetId, lead_ms: u.leadMs })),
  )}::jsonb) as x(target_id uuid, lead_ms bigint)`;
  // Per stage, the longest warning one of its pending targets' unsent notices promised.
  const leadOf = new Map(
    (
      await queryRows<{ stage_id: string; lead_ms: string | number }>(
        tx,
        sql`select t.stage_id, max(x.lead_ms) as lead_ms
            from ${t} t join ${lead} on x.target_id = t.id
            where t.stage_id in (select jsonb_array_elements_text(${JSON.stringify(stageIds)}::jsonb)::uuid)
              and t.status = 'pending'
            group by t.stage_id`,
      )
    ).map((r) => [r.stage_id, Number(r.lead_ms)]),
  );
  out.leadMinutes = Math.round(Math.max(0, ...leadOf.values()) / 60_000);
  const now = input.now.getTime();
  let shiftMs = 0;
  for (const stage of [...input.stages].sort((a, b) => a.index - b.index)) {
    const leadMs = leadOf.get(stage.id);
    if (stage.status === 'running') {
      if (!leadMs) continue;
      const at = new Date(now + leadMs);
      const held = await tx
        .update(t)
        .set({ nextAttemptAt: sql`greatest(${t.nextAttemptAt}, ${at.toISOString()}::timestamptz)` })
        .where(
          and(
            eq(t.stageId, stage.id),
            eq(t.status, 'pending'),
            sql`${t.id} in (select x.target_id from ${lead})`,
          ),
        )
        .returning({ id: t.id });
      for (const h of held) out.replanned.push({ targetId: h.id, actionAt: at });
      out.waiting.push({ stage, at });
      continue;
    }
    if (stage.status !== 'pending') continue;
    if (leadMs) shiftMs = Math.max(shiftMs, now + leadMs - stage.scheduledAt.getTime());
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
