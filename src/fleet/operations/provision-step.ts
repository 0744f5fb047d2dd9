import { eq } from 'drizzle-orm';
import { instances } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import type { StepResult } from './fly-steps.ts';
import type { Operation } from './model.ts';

/** Metadata key naming the instance on its Fly machine (and how import finds owners). */
export const INSTANCE_METADATA_KEY = 'fleetwarden_instance';
export const VOLUME_MOUNT_PATH = '/data';
export const VOLUME_SIZE_GB = 1;

type ProvisionTarget = {
  id: string;
  name: string;
  appName: string;
  region: string;
  volumeId: string | null;
  machineId: string | null;
};

/**
 * Provision's Fly call: the volume first (its id is saved on the instance at once, so a
 * retry does not create a second one), then the machine with the volume mounted and the
 * instance named in its metadata. Machine creation is reconciled by the client's request
 * tag, so an ambiguous failure never creates two machines.
 */
export async function provisionCallStep(
  deps: Deps,
  op: Operation,
  instance: ProvisionTarget,
): Promise<StepResult> {
  let volumeId = instance.volumeId;
  if (!volumeId) {
    const volume = await deps.fly.createVolume(instance.appName, {
      name: instance.name
        .replace(/[^a-z0-9_]/gi, '_')
        .slice(0, 30)
        .toLowerCase(),
      region: instance.region,
      size_gb: VOLUME_SIZE_GB,
      encrypted: true,
      require_unique_zone: false,
    });
    volumeId = volume.id;
    await deps.db
      .update(instances)
      .set({ volumeId, updatedAt: deps.clock.now() })
      .where(eq(instances.id, instance.id));
  }
  if (instance.machineId) {
    const machine = await deps.fly.getMachine(instance.appName, instance.machineId);
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  }
  const machine = await deps.fly.createMachine(instance.appName, {
    name: instance.name,
    region: instance.region,
    config: {
      image: op.targetImageTag ?? '',
      mounts: [{ volume: volumeId, path: VOLUME_MOUNT_PATH }],
      metadata: { [INSTANCE_METADATA_KEY]: instance.id },
      guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
      restart: { policy: 'on-failure', max_retries: 3 },
    },
  });
  await deps.db
    .update(instances)
    .set({
      machineId: machine.id,
      machineVersion: machine.instance_id,
      updatedAt: deps.clock.now(),
    })
    .where(eq(instances.id, instance.id));
  return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
}
