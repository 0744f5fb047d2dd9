import { and, eq } from 'drizzle-orm';
import type { InstanceStatus } from '../../db/schema/fleet.ts';
import { instances } from '../../db/schema/index.ts';
import { isFlyError } from '../adapters/fly/errors.ts';
import type { Machine } from '../adapters/fly/types.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { NotFoundError } from '../lib/errors.ts';
import { ensureImageKnown } from './catalog.ts';
import { recordInstanceEvent } from './events.ts';
import { findOrCreateUser } from './users.ts';

/** Machine metadata that names the owner's email; absent: a placeholder owner per machine. */
export const OWNER_METADATA_KEY = 'fleetwarden_user_email';

function statusOf(machine: Machine): InstanceStatus {
  switch (machine.state) {
    case 'started':
    case 'starting':
    case 'restarting':
    case 'updating':
    case 'replacing':
      return 'running';
    case 'stopped':
    case 'stopping':
    case 'suspended':
    case 'suspending':
      return 'stopped';
    case 'created':
      return 'provisioning';
    default:
      return 'failed';
  }
}

/**
 * Adopts the machines of a Fly app as instances: one per machine not already known (by
 * app and machine id), with its region, image (added to the catalog as disabled when
 * unknown), first mounted volume and version; the owner comes from the
 * `fleetwarden_user_email` metadata. Destroyed machines are skipped. Audited once.
 * Throws {@link NotFoundError} when Fly has no such app.
 */
export async function importFlyApp({ ctx, input }: { ctx: Ctx; input: { appName: string } }) {
  // An app that does not exist on Fly is the caller's mistake (404), not our failure.
  const machines = await ctx.fly.listMachines(input.appName).catch((err: unknown) => {
    throw isFlyError(err, 404) ? new NotFoundError('Fly app', input.appName) : err;
  });
  const now = ctx.clock.now();
  let imported = 0;
  let skipped = 0;
  for (const machine of machines) {
    if (machine.state === 'destroyed' || machine.state === 'destroying') {
      skipped++;
      continue;
    }
    const config = machine.config ?? machine.incomplete_config;
    const created = await ctx.db.transaction(async (tx) => {
      const [known] = await tx
        .select({ id: instances.id })
        .from(instances)
        .where(and(eq(instances.appName, input.appName), eq(instances.machineId, machine.id)));
      if (known) return false;
      const email = (
        config?.metadata?.[OWNER_METADATA_KEY] ?? `${machine.id}@unassigned.invalid`
      ).toLowerCase();
      const user = await findOrCreateUser(tx, { email });
      if (config?.image) await ensureImageKnown(tx, config.image, now);
      const [instance] = await tx
        .insert(instances)
        .values({
          userId: user.id,
          name: `${machine.name || machine.id}`,
          appName: input.appName,
          machineId: machine.id,
          volumeId: config?.mounts?.[0]?.volume ?? null,
          region: machine.region,
          imageTag: config?.image ?? null,
          machineVersion: machine.instance_id,
          status: statusOf(machine),
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (!instance) return false;
      await recordInstanceEvent(tx, {
        instanceId: instance.id,
        type: 'imported',
        actor: ctx.actor,
        payload: { appName: input.appName, machineId: machine.id, state: machine.state },
        at: now,
      });
      return true;
    });
    if (created) imported++;
    else skipped++;
  }
  await recordAudit(ctx.db, ctx, {
    action: 'instance.import',
    subjectType: 'fly_app',
    subjectId: input.appName,
    payload: { imported, skipped },
  });
  return { imported, skipped, machines: machines.length };
}
