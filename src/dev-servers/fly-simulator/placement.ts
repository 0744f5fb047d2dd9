// Config validation and volume placement for machine create and update.
// A machine mounts at most one volume and runs on that volume's host (docs: machines-
// resource, "mounts"; CF409: 412 when the volume is in use by another machine).
import type { MachineConfig } from '../../adapters/fly/types.ts';
import type { SimContext } from './context.ts';
import { invalid, precondition, SimError, volumeNotFound } from './respond.ts';
import type { VolumeRow } from './serialize.ts';
import { DELETED_STATES, findVolume, MOUNTABLE_STATES } from './volume-store.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request's `config`, checked for what the simulator relies on; 400 otherwise. */
export function parseConfig(value: unknown): MachineConfig {
  if (!isObject(value)) throw invalid('config is required');
  if (typeof value.image !== 'string' || !value.image) throw invalid('config.image is required');
  const { metadata, mounts } = value;
  if (metadata != null) {
    if (!isObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))
      throw invalid('config.metadata must map strings to strings');
  }
  if (mounts != null) {
    if (
      !Array.isArray(mounts) ||
      mounts.some((m) => !isObject(m) || typeof m.volume !== 'string' || typeof m.path !== 'string')
    )
      throw invalid('config.mounts must be a list of {volume, path}');
    if (mounts.length > 1) throw invalid('a machine can mount at most one volume');
  }
  return value as MachineConfig;
}

/** The id of the volume a config mounts, or null. */
export const volumeOf = (config: MachineConfig): string | null =>
  config.mounts?.[0]?.volume ?? null;

/** 503 for calls that need the machine's host (flyd) while it is unreachable. */
export const hostDown = (machineId: string) =>
  new SimError(503, `unavailable: host of machine ${machineId} is unreachable`);

/**
 * The volume a new machine will mount, checked: it exists and is live (404), lies in the
 * asked region (400), is free (412), mountable (412), and its host is up (412
 * `volume_placement_capacity`, the fly-go text for a volume whose host cannot take the
 * machine). Null when the config mounts nothing.
 */
export async function placeOnVolume(
  ctx: SimContext,
  app: string,
  config: MachineConfig,
  region: string | undefined,
): Promise<VolumeRow | null> {
  const id = volumeOf(config);
  if (!id) return null;
  const volume = await findVolume(ctx, app, id);
  if (!volume || DELETED_STATES.has(volume.state)) throw volumeNotFound();
  if (region && region !== volume.region)
    throw invalid(`volume ${id} is in region ${volume.region}, not ${region}`);
  if (volume.attachedMachineId)
    throw precondition(`volume ${id} is in use by machine ${volume.attachedMachineId}`);
  if (!MOUNTABLE_STATES.has(volume.state))
    throw precondition(`volume ${id} is not ready to mount (state ${volume.state})`);
  if (ctx.faults.hostUnreachable(volume))
    throw new SimError(
      412,
      `insufficient resources to create new machine with existing volume id '${id}'`,
      {
        status: 'volume_placement_capacity',
      },
    );
  return volume;
}
