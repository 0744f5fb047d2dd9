import { FlyApiError } from '../adapters/fly/errors.ts';
import type { Machine, Volume, VolumeSnapshot } from '../adapters/fly/types.ts';
import type { Deps } from '../deps.ts';

export type LiveMachine = {
  machine: Machine | null;
  volume: Volume | null;
  snapshots: VolumeSnapshot[];
  /** What could not be read from Fly, in words. */
  error: string | null;
};

const describe = (err: unknown) =>
  err instanceof FlyApiError ? `${err.status} ${err.message}` : String(err);

/** The instance's machine, volume and snapshots as Fly reports them right now. Never throws. */
export async function liveMachine(
  deps: Pick<Deps, 'fly'>,
  instance: { appName: string; machineId: string | null; volumeId: string | null },
): Promise<LiveMachine> {
  const errors: string[] = [];
  const machine = instance.machineId
    ? await deps.fly.getMachine(instance.appName, instance.machineId).catch((err) => {
        errors.push(`machine: ${describe(err)}`);
        return null;
      })
    : null;
  const volumeId = instance.volumeId ?? machine?.config?.mounts?.[0]?.volume ?? null;
  const [volume, snapshots] = volumeId
    ? await Promise.all([
        deps.fly.getVolume(instance.appName, volumeId).catch((err) => {
          errors.push(`volume: ${describe(err)}`);
          return null;
        }),
        deps.fly.listSnapshots(instance.appName, volumeId).catch((err) => {
          errors.push(`snapshots: ${describe(err)}`);
          return [] as VolumeSnapshot[];
        }),
      ])
    : [null, [] as VolumeSnapshot[]];
  return { machine, volume, snapshots, error: errors.length ? errors.join('; ') : null };
}
