// Wire types of the Fly Machines API, named as the spec names them (snake_case fields).
// Sources: the Machines OpenAPI document (2024, https://docs.machines.dev), the resource
// pages under https://fly.io/docs/machines/api/, and fly-go where the spec is older than the
// service. Only the fields fleetwarden reads or writes are spelled out; index
// signatures carry the rest through unchanged (an update must send the whole config back).

/** `GET /v1/apps/{app}` (docs: machines/api/apps-resource). */
export type App = {
  id: string;
  name: string;
  organization?: { name?: string; slug?: string };
  status?: string;
};

export type CreateAppRequest = { app_name: string; org_slug: string; network?: string };

/** docs: machines-resource, "Machine config object properties". */
export type MachineMount = {
  volume: string;
  path: string;
  name?: string;
  size_gb?: number;
  encrypted?: boolean;
  extend_threshold_percent?: number;
  add_size_gb?: number;
  size_gb_limit?: number;
};

export type MachineGuest = {
  cpu_kind?: string;
  cpus?: number;
  memory_mb?: number;
  gpu_kind?: string;
  gpus?: number;
  kernel_args?: string[];
  host_dedication_id?: string;
  [key: string]: unknown;
};

export type MachineConfig = {
  /** The only required field. */
  image: string;
  env?: Record<string, string>;
  metadata?: Record<string, string>;
  guest?: MachineGuest;
  mounts?: MachineMount[];
  restart?: { policy?: 'no' | 'on-failure' | 'always'; max_retries?: number };
  auto_destroy?: boolean;
  services?: Record<string, unknown>[];
  checks?: Record<string, Record<string, unknown>>;
  stop_config?: { signal?: string; timeout?: string };
  [key: string]: unknown;
};

/** Documented states (docs: machines/machine-states); `replaced` only for old versions. */
export type MachineState =
  | 'created'
  | 'starting'
  | 'started'
  | 'stopping'
  | 'stopped'
  | 'suspending'
  | 'suspended'
  | 'restarting'
  | 'updating'
  | 'replacing'
  | 'destroying'
  | 'destroyed'
  | 'failed'
  | 'launch_failed'
  | 'replaced'
  | 'migrated';

export type HostStatus = 'ok' | 'unknown' | 'unreachable';

/** `timestamp` is unix milliseconds; `source` is `user` or `flyd`. */
export type MachineEvent = {
  id: string;
  type: string;
  status: string;
  source: string;
  timestamp: number;
  request?: Record<string, unknown>;
};

export type ImageRef = {
  registry?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  labels?: Record<string, string>;
};

export type CheckStatus = { name?: string; status?: string; output?: string; updated_at?: string };

/**
 * A machine. `config` is omitted when the host is not `ok`; `incomplete_config` then holds
 * what could be rebuilt (fly-go `Machine`). `events` are newest first.
 */
export type Machine = {
  id: string;
  name: string;
  state: MachineState;
  region: string;
  instance_id: string;
  private_ip?: string;
  config?: MachineConfig;
  incomplete_config?: MachineConfig;
  image_ref?: ImageRef;
  created_at: string;
  updated_at: string;
  events?: MachineEvent[];
  checks?: CheckStatus[];
  host_status?: HostStatus;
  /** Only on create with `lease_ttl`. */
  nonce?: string;
  [key: string]: unknown;
};

export type CreateMachineRequest = {
  config: MachineConfig;
  name?: string;
  region?: string;
  skip_launch?: boolean;
  skip_service_registration?: boolean;
  /** Seconds; the response then carries the lease `nonce`. */
  lease_ttl?: number;
};

/** The whole config is required: there is no partial update (docs: machines-resource). */
export type UpdateMachineRequest = CreateMachineRequest & {
  /** The `instance_id` the caller last saw; a mismatch is a 409. */
  current_version?: string;
};

/** `timeout` is a Go duration string, e.g. `"30s"` (docs: machines-resource, stop). */
export type StopRequest = { signal?: string; timeout?: string };

/** docs example `{"previous_state":"stopped","migrated":false,"new_host":""}`. */
export type StartMachineResponse = {
  previous_state?: string;
  migrated?: boolean;
  new_host?: string;
  [key: string]: unknown;
};

/** Wait answers `{"ok":true}`; the simulator adds the `state` it saw. */
export type WaitMachineResponse = { ok: boolean; state?: string };

export type WaitState = 'started' | 'stopped' | 'suspended' | 'destroyed' | 'settled';

/** Lease fields; `expires_at` is unix seconds, `version` the machine's `instance_id`. */
export type LeaseData = {
  nonce: string;
  expires_at: number;
  owner: string;
  description: string;
  version: string;
};

/** The lease envelope the service returns (docs: machines-resource, "Create a lease"). */
export type Lease = { status: string; data: LeaseData };

export type CreateLeaseRequest = { ttl: number; description?: string };

export type VolumeState =
  | 'creating'
  | 'created'
  | 'extending'
  | 'restoring'
  | 'enabling_remote_export'
  | 'hydrating'
  | 'recovering'
  | 'scheduling_destroy'
  | 'pending_destroy'
  | 'destroyed';

/** docs: volumes-resource. `attached_machine_id` is null when detached. */
export type Volume = {
  id: string;
  name: string;
  state: VolumeState;
  size_gb: number;
  region: string;
  zone: string;
  encrypted: boolean;
  attached_machine_id: string | null;
  attached_alloc_id?: string | null;
  created_at: string;
  blocks?: number;
  block_size?: number;
  blocks_free?: number;
  blocks_avail?: number;
  fstype?: string;
  snapshot_retention?: number;
  auto_backup_enabled?: boolean;
  host_status?: HostStatus;
  [key: string]: unknown;
};

/** docs: volumes-resource, "Create a volume". Defaults noted where the docs give them. */
export type CreateVolumeRequest = {
  name: string;
  region?: string;
  /** Default 3. */
  size_gb?: number;
  /** Default true. */
  encrypted?: boolean;
  /** Default true: no other volume of the same name on the host. */
  require_unique_zone?: boolean;
  /** Restore from a snapshot (state `restoring`). */
  snapshot_id?: string;
  /** Fork another volume (states `creating` … `hydrating` → `created`). */
  source_volume_id?: string;
  /** Days, 1–60, default 5. */
  snapshot_retention?: number;
  auto_backup_enabled?: boolean;
  fstype?: string;
  /** Placement hint for the machine that will mount the volume. */
  compute?: MachineGuest;
  compute_image?: string;
};

export type ExtendVolumeResponse = { volume: Volume; needs_restart: boolean };

/** `size` in bytes; `status` `waiting` → `running` → `created` (docs: volumes/snapshots). */
export type VolumeSnapshot = {
  id: string;
  created_at: string;
  digest: string;
  size: number;
  status: string;
  retention_days: number | null;
  volume_size?: number;
};

/** ErrorResponse: `{error, status?}`; `status` is e.g. `insufficient_capacity`. */
export type ErrorResponse = { error?: string; status?: string; message?: string };
