// The one place a machine config for an instance is built, so every machine the fleet
// creates or updates (provision, version change, the demo seed, recovery's replacement
// machines) carries the instance controller's token.
import { CONTROLLER_TOKEN_ENV, controllerToken } from '../adapters/controller/token.ts';
import type { MachineConfig } from '../adapters/fly/types.ts';
import type { Deps } from '../deps.ts';

/** Metadata key naming the instance on its Fly machine (and how import finds owners). */
export const INSTANCE_METADATA_KEY = 'fleetwarden_instance';
export const VOLUME_MOUNT_PATH = '/data';

/**
 * A machine config for instance `instanceId` running `image`.
 *
 * - Without `base` (a create): the instance's defaults (shared 1 vCPU, 512 MB, restart on
 *   failure up to 3 times), the volume mounted at `/data` when `volumeId` is given, and
 *   `metadata.fleetwarden_instance = instanceId`.
 * - With `base` (an update): the machine's current config, with `image` replaced and
 *   `metadata` merged in (and the mount replaced when `volumeId` is given).
 *
 * Either way `env.FLEETWARDEN_CONTROLLER_TOKEN` is set to the instance's controller token,
 * HMAC-SHA-256(`CONTROLLER_SECRET`, instance id) (src/adapters/controller/token.ts), so a
 * machine built from an older secret gets the current token on its next update. The token
 * is derived here and never stored or logged.
 */
export async function machineConfigFor(
  deps: Pick<Deps, 'security'>,
  input: {
    instanceId: string;
    image: string;
    base?: MachineConfig;
    volumeId?: string;
    metadata?: Record<string, string>;
  },
): Promise<MachineConfig> {
  const token = await controllerToken(deps.security.controllerSecret, input.instanceId);
  const base: MachineConfig = input.base ?? {
    image: input.image,
    guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
    restart: { policy: 'on-failure', max_retries: 3 },
  };
  return {
    ...base,
    image: input.image,
    ...(input.volumeId ? { mounts: [{ volume: input.volumeId, path: VOLUME_MOUNT_PATH }] } : {}),
    metadata: {
      ...base.metadata,
      ...(input.base ? {} : { [INSTANCE_METADATA_KEY]: input.instanceId }),
      ...input.metadata,
    },
    env: { ...base.env, [CONTROLLER_TOKEN_ENV]: token },
  };
}
