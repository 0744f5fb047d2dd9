import { eq, sql } from 'drizzle-orm';
import { recoveries } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { lockForRecovery, markRecovering } from '../fleet/recovery-moves.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import { IN_PLACE_DEADLINE_MS, type Recovery, type RecoveryStep } from './model.ts';
import { ringRecovery } from './run-step.ts';

/**
 * `POST /api/admin/recoveries/{id}/retry`: a failed recovery resumes from the step it
 * failed in. The replacement resources made before the failure were removed when it
 * failed, so a relocation resumes from its first step (`started`: a new volume, then a
 * new machine); a failed in-place start is tried again in place. Its step counters start
 * again, the instance is `recovering` again, and the retry is audited. 404 unknown; 409
 * `not-failed` unless it failed; 409 `instance-busy` when the instance is busy, has an
 * action in flight or another recovery is active.
 */
export async function retryRecovery({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { recoveryId: string };
}): Promise<Recovery> {
  const now = ctx.clock.now();
  let updated: Recovery;
  try {
    updated = await ctx.db.transaction(async (tx) => {
      const [r] = await tx
        .select()
        .from(recoveries)
        .where(eq(recoveries.id, input.recoveryId))
        .for('update');
      if (!r) throw new NotFoundError('Recovery', input.recoveryId);
      if (r.status !== 'failed')
        throw new ConflictError(
          `Only a failed recovery can be retried (this one is ${r.status}).`,
          { recoveryId: r.id, status: r.status },
          'not-failed',
        );
      const locked = await lockForRecovery(tx, r.instanceId, ['stopped', 'failed', 'running']);
      if (!locked.ok)
        throw new ConflictError(
          `The instance is busy (${locked.status ?? locked.reason}); try again when it has finished.`,
          { instanceId: r.instanceId, instanceStatus: locked.status ?? null },
          'instance-busy',
        );
      const step: RecoveryStep = r.failedStep === 'in_place_start' ? 'in_place_start' : 'started';
      const [row] = await tx
        .update(recoveries)
        .set({
          status: 'pending',
          step,
          failedStep: null,
          failReason: null,
          stepClaims: 0,
          stepFailures: 0,
          stepDeadlineAt:
            step === 'in_place_start' ? new Date(now.getTime() + IN_PLACE_DEADLINE_MS) : null,
          newMachineId: null,
          newVolumeId: null,
          newMachineVersion: null,
          regionIndex: 0,
          regionTried: r.oldRegion,
          volumeSource: null,
          nextAttemptAt: now,
          endedAt: null,
          updatedAt: now,
          claimToken: null,
          leaseUntil: null,
          history: sql`${recoveries.history} || ${JSON.stringify([{ step, at: now.toISOString(), note: `retried by ${ctx.actor.label}` }])}::jsonb`,
        })
        .where(eq(recoveries.id, r.id))
        .returning();
      if (!row) throw new Error('recovery vanished');
      await markRecovering(tx, r.instanceId, now);
      const payload = { recoveryId: r.id, from: r.failedStep, step };
      await recordInstanceEvent(tx, {
        instanceId: r.instanceId,
        type: 'recovery_retried',
        actor: ctx.actor,
        payload,
        at: now,
      });
      await recordAudit(tx, ctx, {
        action: 'recovery.retry',
        subjectType: 'instance',
        subjectId: r.instanceId,
        payload,
      });
      return row;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw new ConflictError(
      'Another recovery of this instance is active.',
      { recoveryId: input.recoveryId },
      'instance-busy',
    );
  }
  await ringRecovery(ctx, updated);
  return updated;
}
