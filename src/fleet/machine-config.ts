import { REQUEST_ID_KEY } from '../adapters/fly/create-machine.ts';
import type { CreateMachineRequest } from '../adapters/fly/types.ts';

/** Metadata key naming the instance on its Fly machine (and how import finds owners). */
export const INSTANCE_METADATA_KEY = 'fleetwarden_instance';
export const VOLUME_MOUNT_PATH = '/data';
export const VOLUME_SIZE_GB = 1;

/**
 * The create request of an instance's machine, the one place that says how an instance's
 * machine looks: provisioning and recovery's replacement machine both build it here
 * (the replacement under another name while the old machine, same name, is destroyed).
 * `requestId` goes into `metadata.fleetwarden_request_id` (the tag a rerun adopts the
 * machine by); the instance id into `metadata.fleetwarden_instance` (ownership).
 */
export function instanceMachineRequest(input: {
  instance: { id: string; name: string };
  /** The machine's name (default: the instance's); Fly machine names are unique per app. */
  name?: string;
  region: string;
  image: string;
  volumeId: string;
  requestId: string;
}): CreateMachineRequest {
  return {
    name: input.name ?? input.instance.name,
    region: input.region,
    config: {
      image: input.image,
      mounts: [{ volume: input.volumeId, path: VOLUME_MOUNT_PATH }],
      metadata: { [INSTANCE_METADATA_KEY]: input.instance.id, [REQUEST_ID_KEY]: input.requestId },
      guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
      restart: { policy: 'on-failure', max_retries: 3 },
    },
  };
}
