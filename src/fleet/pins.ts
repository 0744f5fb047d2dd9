import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instances, versionPins } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { NotFoundError } from '../lib/errors.ts';
import { availableImage } from './catalog.ts';
import { recordInstanceEvent } from './events.ts';

export type VersionPin = typeof versionPins.$inferSelect;

/**
 * Pins an instance to an image (replacing any pin), so rollouts skip it unless an admin
 * overrides. `db` may be the caller's transaction. Writes the timeline event, not the audit
 * row (callers audit the action that caused it).
 */
export async function writePin(
  db: Db,
  ctx: Ctx,
  input: { instanceId: string; imageTag: string; reason: string | null },
): Promise<VersionPin> {
  const values = {
    imageTag: input.imageTag,
    pinnedBy: ctx.actor.type === 'admin' ? ctx.actor.id : null,
    reason: input.reason,
    createdAt: ctx.clock.now(),
  };
  const [pin] = await db
    .insert(versionPins)
    .values({ instanceId: input.instanceId, ...values })
    .onConflictDoUpdate({ target: versionPins.instanceId, set: values })
    .returning();
  if (!pin) throw new Error('pin upsert returned no row');
  await recordInstanceEvent(db, {
    instanceId: input.instanceId,
    type: 'pin_set',
    actor: ctx.actor,
    payload: { imageTag: input.imageTag, reason: input.reason },
  });
  return pin;
}

/** Sets a pin (the image must be available). Audited. */
export async function pinInstance({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string; imageTag: string; reason?: string | null };
}) {
  await availableImage(ctx.db, input.imageTag);
  return ctx.db.transaction(async (tx) => {
    const [instance] = await tx
      .select({ id: instances.id })
      .from(instances)
      .where(eq(instances.id, input.instanceId));
    if (!instance) throw new NotFoundError('Instance', input.instanceId);
    const pin = await writePin(tx, ctx, {
      instanceId: input.instanceId,
      imageTag: input.imageTag,
      reason: input.reason?.trim() || null,
    });
    await recordAudit(tx, ctx, {
      action: 'instance.pin',
      subjectType: 'instance',
      subjectId: input.instanceId,
      payload: { imageTag: input.imageTag, reason: pin.reason },
    });
    return pin;
  });
}

/** Removes a pin; repeating is a no-op. Audited when a pin was removed. */
export async function unpinInstance({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string };
}): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [removed] = await tx
      .delete(versionPins)
      .where(eq(versionPins.instanceId, input.instanceId))
      .returning();
    if (!removed) return;
    await recordInstanceEvent(tx, {
      instanceId: input.instanceId,
      type: 'pin_removed',
      actor: ctx.actor,
      payload: { imageTag: removed.imageTag },
    });
    await recordAudit(tx, ctx, {
      action: 'instance.unpin',
      subjectType: 'instance',
      subjectId: input.instanceId,
      payload: { imageTag: removed.imageTag },
    });
  });
}
