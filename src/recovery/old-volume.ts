import type { FlyClient } from '../adapters/fly/api.ts';
import { DELETED_VOLUME_STATES } from '../adapters/fly/create-volume.ts';
import { FlyApiError, isFlyError } from '../adapters/fly/errors.ts';
import { INSTANCE_METADATA_KEY } from '../fleet/machine-config.ts';
import { deleteVolumeKnown, destroyMachineKnown } from './fly-effects.ts';

export type VolumeDeletion =
  | { kind: 'deleted' }
  | { kind: 'gone' }
  | { kind: 'refused'; reason: string };

/**
 * Deletes a volume that belongs to `instanceId`, after checking whoever still holds it: a
 * volume attached to a machine is deleted only when that machine carries this instance in
 * `metadata.fleetwarden_instance` (the machine is force-destroyed first); a machine of
 * anyone else makes it `refused` and nothing is deleted. A volume already gone (404 or a
 * destroyed state) is `gone`. A lost answer to the destroy or the delete is settled by
 * reading the machine or volume back (fly-effects.ts); other Fly errors (a 412 while the
 * destroyed machine still detaches, 5xx) are thrown for the caller to retry. Fly:
 * volumes-resource "Destroy a volume" (412 while attached), machines-resource "Destroy a
 * Machine" (`force`).
 */
export async function deleteOwnedVolume(
  fly: FlyClient,
  app: string,
  volumeId: string,
  instanceId: string,
): Promise<VolumeDeletion> {
  let volume: Awaited<ReturnType<FlyClient['getVolume']>>;
  try {
    volume = await fly.getVolume(app, volumeId);
  } catch (err) {
    if (isFlyError(err, 404)) return { kind: 'gone' };
    throw err;
  }
  if (DELETED_VOLUME_STATES.has(volume.state)) return { kind: 'gone' };
  const holder = volume.attached_machine_id;
  if (holder) {
    let owner: string | undefined;
    let exists = true;
    try {
      const machine = await fly.getMachine(app, holder);
      const config = machine.config ?? machine.incomplete_config;
      owner = config?.metadata?.[INSTANCE_METADATA_KEY];
      exists = machine.state !== 'destroyed';
    } catch (err) {
      if (!isFlyError(err, 404)) throw err;
      exists = false;
    }
    if (exists && owner !== instanceId)
      return {
        kind: 'refused',
        reason: `volume ${volumeId} is attached to machine ${holder}, which belongs to ${owner ? `instance ${owner}` : 'no instance of ours'}`,
      };
    if (exists) await destroyMachineKnown(fly, app, holder);
  }
  return { kind: await deleteVolumeKnown(fly, app, volumeId) };
}

/** A capacity refusal (Fly's 412 `insufficient_capacity` / "insufficient resources"). */
export function isCapacityError(err: unknown): err is FlyApiError {
  return (
    err instanceof FlyApiError &&
    (err.code === 'insufficient_capacity' ||
      err.code === 'volume_placement_capacity' ||
      (err.status === 412 && /insufficient (resources|capacity)/i.test(err.message)))
  );
}
