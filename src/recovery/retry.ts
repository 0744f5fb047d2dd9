import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recoveries } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Actor, Ctx } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { type LockResult, lockForRecovery, markRecovering } from '../fleet/recovery-moves.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import { IN_PLACE_DEADLINE_MS, type Recovery, type RecoveryStep } from './model.ts';
import { ringRecovery } from './run-step.ts';

/**
 * Resumes a failed recovery (`r`, read `FOR UPDATE` in `tx`, whose instance `locked` was
 * locked for it) from the step it failed in: the replacement resources made before the
 * failure were removed when it failed, so a relocation resumes from its first step
 * (`started`: a new volume, then a new machine); a failed in-place start is tried again in
 * place. Its step counters start again and the instance is `recovering` again. `auto`:
 * reconcile resumes it (counted in `autoRetries`); otherwise an admin does (the count
 * starts again, so reconcile's backoff does too). Returns the resumed row.
 */
export async function resumeFailed(
  tx: Db,
  r: Recovery,
  input: { now: Date; actor: Actor; auto: boolean },
): Promise<Recovery> {
  const { now } = input;
  const step: RecoveryStep = r.failedStep === 'in_place_start' ? 'in_place_start' : 'started';
  const note = input.auto
    ? `resumed by reconcile (${r.autoRetries + 1})`
    : `retried by ${input.actor.label}`;
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
      waitingFor: null,
      waitingSince: null,
      waits: 0,
      retryAt: null,
      autoRetries: input.auto ? r.autoRetries + 1 : 0,
      nextAttemptAt: now,
      endedAt: null,
      updatedAt: now,
      claimToken: null,
      leaseUntil: null,
      history: sql`${recoveries.history} || ${JSON.stringify([{ step, at: now.toISOString(), note }])}::jsonb`,
    })
    .where(eq(recoveries.id, r.id))
    .returning();
  if (!row) throw new Error('recovery vanished');
  await markRecovering(tx, r.instanceId, now);
  await recordInstanceEvent(tx, {
    instanceId: r.instanceId,
    type: 'recovery_retried',
    actor: input.actor,
    payload: { recoveryId: r.id, from: r.failedStep, step, auto: input.auto },
    at: now,
  });
  return row;
}

/** Why the instance refuses, for a 409. */
const busy = (locked: Exclude<LockResult, { ok: true }>) => locked.status ?? locked.reason;

/**
 * `POST /api/admin/recoveries/{id}/retry`: a failed recovery resumes ({@link resumeFailed}),
 * audited. 404 unknown; 409 `not-failed` unless it failed; 409 `instance-busy` when the
 * instance is busy, has an action in flight or another recovery is active.
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
          `The instance is busy (${busy(locked)}); try again when it has finished.`,
          { instanceId: r.instanceId, instanceStatus: locked.status ?? null },
          'instance-busy',
        );
      const row = await resumeFailed(tx, r, { now, actor: ctx.actor, auto: false });
      await recordAudit(tx, ctx, {
        action: 'recovery.retry',
        subjectType: 'instance',
        subjectId: r.instanceId,
        payload: { recoveryId: r.id, from: r.failedStep, step: row.step },
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
