// Rows → the JSON shapes the Machines API answers (OpenAPI `Machine`, `Volume`,
// `VolumeSnapshot`, `MachineEvent`; examples in docs machines-resource / volumes-resource).
import type {
  simFlyMachineEvents,
  simFlySnapshots,
  simFlyVolumes,
} from '../../../db/dev-schema/index.ts';
import type {
  Machine,
  MachineConfig,
  MachineEvent,
  Volume,
  VolumeSnapshot,
} from '../../adapters/fly/types.ts';
import type { SimContext } from './context.ts';
import { isoSeconds } from './respond.ts';
import type { MachineRow } from './store.ts';

type EventRow = typeof simFlyMachineEvents.$inferSelect;
export type VolumeRow = typeof simFlyVolumes.$inferSelect;
export type SnapshotRow = typeof simFlySnapshots.$inferSelect;

/** An event; `timestamp` in unix milliseconds (OpenAPI `MachineEvent`). */
export function eventJson(e: EventRow): MachineEvent {
  return {
    id: e.id,
    type: e.type,
    status: e.status,
    source: e.source,
    timestamp: e.at.getTime(),
    ...(e.request ? { request: e.request } : {}),
  };
}

/** `registry.fly.io/agent:v1` → `{registry, repository, tag}` as fly-go's `image_ref`. */
function imageRef(image: string) {
  const [name = image, tag = 'latest'] = image.split(/:(?=[^/]*$)/);
  const parts = name.split('/');
  const registry =
    parts.length > 1 && /[.:]/.test(parts[0] ?? '')
      ? (parts.shift() as string)
      : 'docker-hub-mirror.fly.io';
  return { registry, repository: parts.join('/'), tag, digest: '', labels: {} };
}

/**
 * A machine. On an unreachable host Fly cannot read the config: `config` is omitted and
 * `incomplete_config` keeps what the control plane knows (fly-go `Machine` comments).
 * `summary` omits config, events, checks and host_status (OAS 2025 `summary` parameter).
 */
export function machineJson(
  ctx: SimContext,
  row: MachineRow,
  events: EventRow[],
  options: { summary?: boolean; nonce?: string } = {},
): Machine {
  const config = row.config as MachineConfig;
  const base: Machine = {
    id: row.id,
    name: row.name,
    state: row.state,
    region: row.region,
    instance_id: row.instanceId,
    private_ip: row.privateIp,
    image_ref: imageRef(config.image),
    created_at: isoSeconds(row.createdAt),
    updated_at: isoSeconds(row.updatedAt),
    ...(options.nonce ? { nonce: options.nonce } : {}),
  };
  if (options.summary) return base;
  const unreachable = ctx.faults.hostUnreachable(row);
  const partial: MachineConfig = { image: config.image };
  if (config.metadata) partial.metadata = config.metadata;
  if (config.mounts) partial.mounts = config.mounts;
  return {
    ...base,
    ...(unreachable ? { incomplete_config: partial } : { config }),
    events: events.map(eventJson),
    checks: [],
    host_status: unreachable ? 'unreachable' : 'ok',
  };
}

/** 4 KiB blocks, as the docs' examples show. */
const BLOCKS_PER_GB = (1024 * 1024 * 1024) / 4096;

/** A volume; `host_status` follows the host faults. */
export function volumeJson(ctx: SimContext, row: VolumeRow): Volume {
  const blocks = row.sizeGb * BLOCKS_PER_GB;
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    size_gb: row.sizeGb,
    region: row.region,
    zone: row.zone,
    encrypted: row.encrypted,
    attached_machine_id: row.attachedMachineId,
    // Milliseconds, as the docs' volume example has it.
    created_at: row.createdAt.toISOString(),
    blocks,
    block_size: 4096,
    blocks_free: Math.floor(blocks * 0.97),
    blocks_avail: Math.floor(blocks * 0.92),
    fstype: row.fstype,
    snapshot_retention: row.snapshotRetention,
    auto_backup_enabled: row.autoBackupEnabled,
    host_status: ctx.faults.hostUnreachable(row) ? 'unreachable' : 'ok',
    host_dedication_key: '',
  };
}

/** `created_at` with `+00:00`, as the docs' snapshot example has it. */
export function snapshotJson(row: SnapshotRow): VolumeSnapshot {
  return {
    id: row.id,
    created_at: row.createdAt.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    digest: row.digest,
    size: row.size,
    status: row.status,
    retention_days: row.retentionDays,
    volume_size: row.volumeSize,
  };
}
