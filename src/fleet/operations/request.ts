import { eq } from 'drizzle-orm';
import { instances, type OperationKind, versionPins } from '../../../db/schema/index.ts';
import { recordAudit } from '../../audit/audit.ts';
import type { Ctx } from '../../deps.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { availableImage, findImage, latestImage } from '../catalog.ts';
import { writePin } from '../pins.ts';
import { insertOperations } from './batch.ts';
import { activeOperation, BUSY_STATUSES, type Operation, stepDoorbell } from './model.ts';

export type OperationRequest =
  | { kind: 'restart' }
  | { kind: 'version_change'; imageTag: string; overridePin?: boolean }
  | { kind: 'upgrade_to_latest'; overridePin?: boolean }
  | { kind: 'stop' }
  | { kind: 'start' };

function busyError(
  instanceId: string,
  status: string,
  operation?: Operation | null,
): ConflictError {
  const what = operation
    ? `a ${operation.kind.replace('_', ' ')} is in progress`
    : `it is ${status}`;
  return new ConflictError(
    `The instance is busy: ${what}. Try again when it has finished.`,
    { instanceId, instanceStatus: status },
    'instance-busy',
  );
}

/**
 * Starts an immediate action on one instance and rings its first doorbell after commit.
 *
 * Rules: 404 for an unknown instance; 409 `instance-busy` while it is provisioning,
 * restarting, recovering, destroying, has another action running or a live CLI run (the
 * problem names it as `liveRunId`) (a partial unique index
 * makes concurrent requests race safely); a version change needs an available catalog
 * image (422 otherwise), is 409 `pinned` on a pinned instance unless `overridePin` (which
 * moves the pin to the new image) and 422 when the instance already runs that image;
 * stop needs a running instance and start a stopped one (409). Writes the audit row and
 * the timeline event in the same transaction.
 */
export async function requestOperation({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string } & OperationRequest;
}): Promise<Operation> {
  const now = ctx.clock.now();
  let kind: OperationKind = input.kind === 'upgrade_to_latest' ? 'version_change' : input.kind;
  const op = await ctx.db.transaction(async (tx) => {
    const [instance] = await tx
      .select()
      .from(instances)
      .where(eq(instances.id, input.instanceId))
      .for('update');
    if (!instance) throw new NotFoundError('Instance', input.instanceId);
    if (instance.holdKind === 'deprovision' && instance.holdId)
      throw new ConflictError(
        'The instance is being deprovisioned.',
        {
          instanceId: instance.id,
          instanceStatus: instance.status,
          holder: { kind: 'deprovision', id: instance.holdId },
        },
        'instance-busy',
      );
    if ((BUSY_STATUSES as readonly string[]).includes(instance.status))
      throw busyError(instance.id, instance.status);
    if (instance.holdKind === 'cli_run' && instance.holdId)
      throw new ConflictError(
        `The instance is busy: CLI run ${instance.holdId} is live. Cancel it or wait until it ends.`,
        { instanceId: instance.id, instanceStatus: instance.status, liveRunId: instance.holdId },
        'instance-busy',
      );
    if (instance.status === 'destroyed')
      throw new ConflictError(
        'The instance is destroyed.',
        { instanceId: instance.id },
        'instance-destroyed',
      );
    if (!instance.machineId)
      throw new ConflictError(
        'The instance has no machine yet.',
        { instanceId: instance.id },
        'no-machine',
      );
    let targetImageTag: string | null = instance.imageTag;
    if (input.kind === 'version_change' || input.kind === 'upgrade_to_latest') {
      if (input.kind === 'upgrade_to_latest') {
        const current = instance.imageTag ? await findImage(tx, instance.imageTag) : null;
        const latest = await latestImage(tx, current?.variant ?? 'default');
        if (!latest)
          throw new UnprocessableError(
            'No image is marked latest for this variant.',
            {},
            'no-latest-image',
          );
        targetImageTag = latest.imageTag;
      } else {
        targetImageTag = (await availableImage(tx, input.imageTag)).imageTag;
      }
      if (targetImageTag === instance.imageTag)
        throw new UnprocessableError(
          `The instance already runs ${targetImageTag}. Use restart to redeploy it.`,
          { imageTag: targetImageTag },
          'already-on-target',
        );
      const [pin] = await tx
        .select()
        .from(versionPins)
        .where(eq(versionPins.instanceId, instance.id));
      if (pin && pin.imageTag !== targetImageTag) {
        if (!input.overridePin)
          throw new ConflictError(
            `The instance is pinned to ${pin.imageTag}. Set overridePin to replace the pin with ${targetImageTag}.`,
            { instanceId: instance.id, pinnedImageTag: pin.imageTag },
            'pinned',
          );
        await writePin(tx, ctx, {
          instanceId: instance.id,
          imageTag: targetImageTag,
          reason: `override by version change (was ${pin.imageTag})`,
        });
      }
      kind = 'version_change';
    }
    if (kind === 'stop' && instance.status !== 'running' && instance.status !== 'failed')
      throw new ConflictError(
        `Only a running instance can be stopped (it is ${instance.status}).`,
        { instanceId: instance.id, instanceStatus: instance.status },
        'not-running',
      );
    if (kind === 'restart' && instance.status === 'stopped')
      throw new ConflictError(
        'The instance is stopped: start it instead (a restart needs a running machine).',
        { instanceId: instance.id, instanceStatus: instance.status },
        'not-running',
      );
    if (kind === 'start' && instance.status !== 'stopped' && instance.status !== 'failed')
      throw new ConflictError(
        `Only a stopped instance can be started (it is ${instance.status}).`,
        { instanceId: instance.id, instanceStatus: instance.status },
        'not-stopped',
      );
    const created = (
      await insertOperations(
        tx,
        [
          {
            instance,
            kind,
            targetImageTag,
            actor: ctx.actor,
            eventPayload: { upgradeToLatest: input.kind === 'upgrade_to_latest' },
          },
        ],
        now,
      )
    ).get(instance.id);
    if (!created) throw busyError(instance.id, 'busy', await activeOperation(tx, instance.id));
    const payload = {
      operationId: created.id,
      from: instance.imageTag,
      to: targetImageTag,
      upgradeToLatest: input.kind === 'upgrade_to_latest',
    };
    await recordAudit(tx, ctx, {
      action: `instance.${input.kind}`,
      subjectType: 'instance',
      subjectId: instance.id,
      payload,
    });
    return created;
  });
  await ringStep(ctx, op);
  return op;
}

/** Rings an operation's doorbell; a failure is logged and left to the sweep. */
export async function ringStep(ctx: Pick<Ctx, 'doorbells' | 'log'>, op: Operation): Promise<void> {
  try {
    await ctx.doorbells.ring(stepDoorbell(op));
  } catch (err) {
    ctx.log.warn('operation.ring_failed', {
      operationId: op.id,
      error: err,
      hint: 'the sweep rings it again',
    });
  }
}
