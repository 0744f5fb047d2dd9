import { and, desc, eq, isNotNull, isNull, lte } from 'drizzle-orm';
import { recoveries } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { instanceRef } from '../fleet/recovery-moves.ts';
import { AppError, ConflictError, NotFoundError } from '../lib/errors.ts';
import type { Recovery } from './model.ts';
import { deleteOwnedVolume, type VolumeDeletion } from './old-volume.ts';

/** Retained volumes due for deletion at most per reconcile run (the rest wait a minute). */
const DUE_PER_RUN = 50;

const retainedOpen = and(
  isNotNull(recoveries.retainedVolumeId),
  isNull(recoveries.oldVolumeDeletedAt),
);

/**
 * Deletes one retained volume (ownership checked, see {@link deleteOwnedVolume}) and
 * marks it deleted on its recovery — guarded so two runs record it once — with the
 * `retained_volume_deleted` event. A refusal is recorded as `retained_volume_refused`.
 */
async function deleteRetained(
  deps: Pick<Deps, 'db' | 'fly' | 'clock' | 'log'>,
  r: Recovery,
  how: { actor?: Ctx['actor']; reason: 'due' | 'admin' },
): Promise<VolumeDeletion> {
  const instance = await instanceRef(deps.db, r.instanceId);
  const volumeId = r.retainedVolumeId ?? '';
  if (!instance) return { kind: 'gone' };
  const result = await deleteOwnedVolume(deps.fly, instance.appName, volumeId, r.instanceId);
  const now = deps.clock.now();
  if (result.kind === 'refused') {
    await recordInstanceEvent(deps.db, {
      instanceId: r.instanceId,
      type: 'retained_volume_refused',
      actor: how.actor,
      payload: { recoveryId: r.id, volumeId, reason: result.reason },
      at: now,
    });
    deps.log.warn('recovery.retained_volume_refused', { recoveryId: r.id, volumeId });
    return result;
  }
  await deps.db.transaction(async (tx) => {
    const rows = await tx
      .update(recoveries)
      .set({ oldVolumeDeletedAt: now, updatedAt: now })
      .where(and(eq(recoveries.id, r.id), retainedOpen))
      .returning({ id: recoveries.id });
    if (!rows.length) return;
    await recordInstanceEvent(tx, {
      instanceId: r.instanceId,
      type: 'retained_volume_deleted',
      actor: how.actor,
      payload: { recoveryId: r.id, volumeId, reason: how.reason, found: result.kind },
      at: now,
    });
  });
  deps.log.info('recovery.retained_volume_deleted', { recoveryId: r.id, volumeId });
  return result;
}

/** Reconcile's part: retained volumes past `retain_until`, deleted. Returns how many. */
export async function deleteDueRetainedVolumes(
  deps: Pick<Deps, 'db' | 'fly' | 'clock' | 'log'>,
  now: Date,
): Promise<{ deleted: number; errors: string[] }> {
  const due = await deps.db
    .select()
    .from(recoveries)
    .where(and(retainedOpen, lte(recoveries.retainUntil, now)))
    .orderBy(recoveries.retainUntil)
    .limit(DUE_PER_RUN);
  let deleted = 0;
  const errors: string[] = [];
  for (const r of due) {
    try {
      const result = await deleteRetained(deps, r, { reason: 'due' });
      if (result.kind !== 'refused') deleted++;
    } catch (err) {
      errors.push(`retained volume ${r.retainedVolumeId}: ${(err as Error).message}`);
    }
  }
  return { deleted, errors };
}

/** The instance's retained volume not yet deleted (its newest recovery that kept one). */
export async function retainedVolumeOf(db: Deps['db'], instanceId: string) {
  const [row] = await db
    .select()
    .from(recoveries)
    .where(and(eq(recoveries.instanceId, instanceId), retainedOpen))
    .orderBy(desc(recoveries.seq))
    .limit(1);
  return row ?? null;
}

/**
 * `DELETE /api/admin/instances/{id}/retained-volume`: deletes the retained old volume
 * before its deadline, after the ownership check (a machine attached to it must carry
 * this instance's metadata); audited. 404 `no-retained-volume` when there is none; 409
 * `ownership-mismatch` when the check fails (nothing is deleted).
 */
export async function deleteRetainedVolumeNow({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string };
}): Promise<{ volumeId: string; recoveryId: string }> {
  if (!(await instanceRef(ctx.db, input.instanceId)))
    throw new NotFoundError('Instance', input.instanceId);
  const r = await retainedVolumeOf(ctx.db, input.instanceId);
  if (!r)
    throw new AppError(
      404,
      'no-retained-volume',
      'Not found',
      `Instance ${input.instanceId} has no retained volume.`,
    );
  const volumeId = r.retainedVolumeId ?? '';
  const result = await deleteRetained(ctx, r, { actor: ctx.actor, reason: 'admin' });
  const payload = { recoveryId: r.id, volumeId, result: result.kind };
  await recordAudit(ctx.db, ctx, {
    action: 'recovery.delete_retained_volume',
    subjectType: 'instance',
    subjectId: input.instanceId,
    payload,
  });
  if (result.kind === 'refused')
    throw new ConflictError(
      `Not deleted: ${result.reason}.`,
      { instanceId: input.instanceId, volumeId },
      'ownership-mismatch',
    );
  return { volumeId, recoveryId: r.id };
}
