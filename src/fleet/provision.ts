import { instanceOperations, instances } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { randomAlphanumeric } from '../lib/crypto.ts';
import { ConflictError, UnprocessableError } from '../lib/errors.ts';
import { availableImage, latestImage } from './catalog.ts';
import { recordInstanceEvent } from './events.ts';
import { DEADLINE_MS, type Operation } from './operations/model.ts';
import { ringStep } from './operations/request.ts';
import { findOrCreateUser } from './users.ts';

export type ProvisionInput = {
  userEmail: string;
  displayName?: string | null;
  /** Unique instance name; generated from the email when omitted. */
  name?: string | null;
  /** Fly region code, e.g. `ams`. */
  region: string;
  /** Catalog image; the latest available one when omitted. */
  imageTag?: string | null;
};

function generatedName(email: string): string {
  const local =
    email
      .split('@')[0]
      ?.toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'user';
  return `agent-${local.slice(0, 20)}-${randomAlphanumeric(4).toLowerCase()}`;
}

/**
 * Creates an instance for a user (created on first use, by email) and starts its
 * provisioning: a volume, then a machine with the volume mounted, carried out by doorbells
 * like every other action. Answers at once with the instance and its operation.
 * 409 when the name is taken; 422 for an unknown or disabled image.
 */
export async function provisionInstance({ ctx, input }: { ctx: Ctx; input: ProvisionInput }) {
  const image = input.imageTag
    ? await availableImage(ctx.db, input.imageTag)
    : await latestImage(ctx.db, 'default');
  if (!image)
    throw new UnprocessableError(
      'No image is marked latest; pass imageTag.',
      {},
      'no-latest-image',
    );
  const now = ctx.clock.now();
  const email = input.userEmail.trim().toLowerCase();
  const name = input.name?.trim() || generatedName(email);
  const result = await ctx.db.transaction(async (tx) => {
    const user = await findOrCreateUser(tx, { email, displayName: input.displayName });
    const [instance] = await tx
      .insert(instances)
      .values({
        userId: user.id,
        name,
        appName: ctx.config.fly.appName,
        region: input.region,
        imageTag: image.imageTag,
        status: 'provisioning',
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!instance)
      throw new ConflictError(`An instance named ${name} already exists.`, { name }, 'name-taken');
    const [op] = await tx
      .insert(instanceOperations)
      .values({
        instanceId: instance.id,
        kind: 'provision',
        targetImageTag: image.imageTag,
        requestedBy: ctx.actor.label,
        nextCheckAt: now,
        deadlineAt: new Date(now.getTime() + DEADLINE_MS.provision),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!op) throw new Error('operation insert returned no row');
    const payload = {
      operationId: op.id,
      region: input.region,
      imageTag: image.imageTag,
      userEmail: email,
    };
    await recordInstanceEvent(tx, {
      instanceId: instance.id,
      type: 'provision_requested',
      actor: ctx.actor,
      payload,
      at: now,
    });
    await recordAudit(tx, ctx, {
      action: 'instance.provision',
      subjectType: 'instance',
      subjectId: instance.id,
      payload,
    });
    return { instance, operation: op as Operation };
  });
  await ringStep(ctx, result.operation);
  return result;
}
