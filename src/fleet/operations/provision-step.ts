import { REQUEST_ID_KEY } from '../../adapters/fly/create-machine.ts';
import { findLiveVolume } from '../../adapters/fly/create-volume.ts';
import { FlyApiError } from '../../adapters/fly/errors.ts';
import type { CreateMachineRequest, Machine } from '../../adapters/fly/types.ts';
import type { Deps } from '../../deps.ts';
import { machineConfigFor } from '../machine-config.ts';
import type { StepResult } from './fly-steps.ts';
import type { Operation } from './model.ts';
import { type StepInstance, saveInstanceFields } from './store.ts';

export { INSTANCE_METADATA_KEY, VOLUME_MOUNT_PATH } from '../machine-config.ts';
export const VOLUME_SIZE_GB = 1;

/**
 * The volume's name: Fly volume names are lower-case letters, digits and underscores, at
 * most 30 characters, and need not be unique, so the name carries the operation's id (the
 * first 8 hex digits after a readable prefix of the instance name). Volumes have no
 * metadata: this name is how a repeated create finds the volume it already made.
 */
export function volumeNameFor(instanceName: string, operationId: string): string {
  const prefix = instanceName
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 21);
  return `${prefix}_${operationId.replace(/-/g, '').slice(0, 8)}`;
}

/**
 * Provision's Fly call: the volume first, then the machine with the volume mounted and the
 * instance named in its metadata. Both creates are idempotent for the operation:
 * - the volume is named for the operation (see {@link volumeNameFor}); a rerun of the step
 *   (the claim's `attempts` > 1: a crash or a lost answer before the id was saved) looks for
 *   it by name first, and an ambiguous failure (a 503 sent after Fly made it) is reconciled
 *   by name instead of creating a second;
 * - the machine carries `metadata.fleetwarden_request_id = <operation id>`; a rerun lists
 *   machines by that tag first, and the client reconciles an ambiguous create the same way.
 * A 412 "volume in use" on a rerun adopts the machine our own earlier create made.
 * Each id is saved on the instance at once, guarded by the operation's claim (a handler
 * that lost its claim writes nothing and stops), and set on `instance` for the steps that
 * follow in the same callback.
 */
/**
 * Creates the machine; a 412 saying its volume is already in use by a machine means our
 * own earlier create got there first (a rerun that listed before it landed): adopt it.
 */
export async function createMachineOnce(
  deps: Deps,
  app: string,
  tagged: () => Promise<Machine[]>,
  request: CreateMachineRequest,
): Promise<Machine> {
  try {
    return await deps.fly.createMachine(app, request);
  } catch (err) {
    if (!(err instanceof FlyApiError && err.status === 412 && /in use|attached/i.test(err.message)))
      throw err;
    const [ours] = await tagged();
    if (ours) return ours;
    throw err;
  }
}

export async function provisionCallStep(
  deps: Deps,
  op: Operation,
  instance: StepInstance,
): Promise<StepResult> {
  const rerun = op.attempts > 1;
  const app = instance.appName;
  let volumeId = instance.volumeId;
  if (!volumeId) {
    const name = volumeNameFor(instance.name, op.id);
    const existing = rerun
      ? findLiveVolume(await deps.fly.listVolumes(app), name, instance.region)
      : null;
    const volume =
      existing ??
      (await deps.fly.createVolume(
        app,
        {
          name,
          region: instance.region,
          size_gb: VOLUME_SIZE_GB,
          encrypted: true,
          require_unique_zone: false,
        },
        { nameIsUnique: true },
      ));
    volumeId = volume.id;
    await saveInstanceFields(deps.db, op, { volumeId }, deps.clock.now());
    instance.volumeId = volumeId;
  }
  if (instance.machineId) {
    const machine = await deps.fly.getMachine(app, instance.machineId);
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  }
  const tagged = () => deps.fly.listMachines(app, { metadata: { [REQUEST_ID_KEY]: op.id } });
  const [found] = rerun ? await tagged() : [];
  const machine =
    found ??
    (await createMachineOnce(deps, app, tagged, {
      name: instance.name,
      region: instance.region,
      config: await machineConfigFor(deps, {
        instanceId: instance.id,
        image: op.targetImageTag ?? '',
        volumeId,
        metadata: { [REQUEST_ID_KEY]: op.id },
      }),
    }));
  await saveInstanceFields(
    deps.db,
    op,
    { machineId: machine.id, machineVersion: machine.instance_id },
    deps.clock.now(),
  );
  instance.machineId = machine.id;
  return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
}
