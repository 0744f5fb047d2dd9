import { instanceDeprovisions } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import {
  beginDestroying,
  type DeprovisionTarget,
  holdForDeprovision,
  lockForDeprovision,
} from '../fleet/deprovision-moves.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { type Deprovision, deprovisionDoorbell, deprovisionOf } from './model.ts';

/** Who holds the instance, as a 409 names it (`holder.kind`, `holder.id`). */
function holderOf(t: DeprovisionTarget): { kind: string; id: string | null; words: string } | null {
  if (t.holdKind === 'cli_run' && t.holdId)
    return { kind: 'cli_run', id: t.holdId, words: `CLI run ${t.holdId} is live` };
  if (t.operation)
    return {
      kind: 'operation',
      id: t.operation.id,
      words: `a ${t.operation.kind.replace('_', ' ')} is in progress (operation ${t.operation.id})`,
    };
  if (t.status === 'recovering')
    return { kind: 'recovery', id: null, words: 'it is being recovered' };
  return null;
}

/**
 * Deprovisions an instance: `DELETE /api/admin/instances/{id}` and the platform's
 * equivalent for the user's own instance. Returns the instance's one deprovision and
 * whether this request created it; rings its first step after commit.
 *
 * Idempotent: the instance has at most one deprovision (a unique index; the request locks
 * the instance first), so a repeat, or twenty at once, answer the same row. The request
 * takes the instance's hold (`hold_kind = deprovision`; a live CLI run's hold passes to it)
 * and, when no operation or recovery step is in flight, makes the instance `destroying` in
 * the same transaction; otherwise the deprovision waits for that holder's current step
 * (docs/seams.md). Audited (`instance.deprovision`) with a timeline event.
 *
 * `input.userId` (the platform's user): an instance of another user is 404, and the user's
 * request does not preempt: while an operation, a recovery or a CLI run holds the instance
 * it is 409 `instance-busy` naming the holder (`holder: { kind, id }`). Errors: 404 unknown
 * instance; 409 `instance-destroyed` for an instance destroyed without a deprovision.
 */
export async function requestDeprovision({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string; userId?: string };
}): Promise<{ deprovision: Deprovision; created: boolean }> {
  const now = ctx.clock.now();
  const result = await ctx.db.transaction(async (tx) => {
    const target = await lockForDeprovision(tx, input.instanceId);
    if (!target || (input.userId && target.userId !== input.userId))
      throw new NotFoundError('Instance', input.instanceId);
    const existing = await deprovisionOf(tx, target.id);
    if (existing) return { deprovision: existing, created: false };
    if (target.status === 'destroyed')
      throw new ConflictError(
        'The instance is destroyed.',
        { instanceId: target.id },
        'instance-destroyed',
      );
    const holder = input.userId ? holderOf(target) : null;
    if (holder)
      throw new ConflictError(
        `The instance is busy: ${holder.words}. Try again when it has finished.`,
        {
          instanceId: target.id,
          instanceStatus: target.status,
          holder: { kind: holder.kind, id: holder.id },
          ...(holder.kind === 'cli_run' ? { liveRunId: holder.id } : {}),
        },
        'instance-busy',
      );
    const [row] = await tx
      .insert(instanceDeprovisions)
      .values({
        instanceId: target.id,
        requestedBy: ctx.actor.label,
        appName: target.appName,
        machineId: target.machineId,
        volumeId: target.volumeId,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    // The instance row is locked, so the insert cannot meet another; kept for safety.
    if (!row) {
      const other = await deprovisionOf(tx, target.id);
      if (!other) throw new Error('deprovision vanished');
      return { deprovision: other, created: false };
    }
    await holdForDeprovision(tx, target.id, row.id, now);
    const wait = await beginDestroying(
      tx,
      { ...target, holdKind: 'deprovision', holdId: row.id },
      row.id,
      now,
    );
    const preempted = target.holdKind === 'cli_run' ? target.holdId : null;
    const payload = {
      deprovisionId: row.id,
      machineId: target.machineId,
      volumeId: target.volumeId,
      ...(preempted ? { cliRunId: preempted } : {}),
      ...(wait ? { waitingFor: wait.kind } : {}),
    };
    await recordAudit(tx, ctx, {
      action: 'instance.deprovision',
      subjectType: 'instance',
      subjectId: target.id,
      payload,
    });
    await recordInstanceEvent(tx, {
      instanceId: target.id,
      type: 'deprovision_requested',
      actor: ctx.actor,
      payload,
      at: now,
    });
    return { deprovision: row, created: true };
  });
  if (result.created) await ringDeprovision(ctx, result.deprovision);
  return result;
}

/** Rings a deprovision's next step; a failure is logged and left to the sweep. */
export async function ringDeprovision(deps: Pick<Deps, 'doorbells' | 'log'>, d: Deprovision) {
  try {
    await deps.doorbells.ring(deprovisionDoorbell(d));
  } catch (err) {
    deps.log.warn('deprovision.ring_failed', { deprovisionId: d.id, error: err, hint: 'swept' });
  }
}
