// The client's interface, split from client.ts so features and fakes import only types.
import type {
  App,
  CreateMachineRequest,
  CreateVolumeRequest,
  ExtendVolumeResponse,
  Lease,
  Machine,
  MachineEvent,
  StartMachineResponse,
  StopRequest,
  UpdateMachineRequest,
  Volume,
  VolumeSnapshot,
  WaitMachineResponse,
  WaitState,
} from './types.ts';

/** A lease nonce for a leased machine (sent as `fly-machine-lease-nonce`). */
export type LeaseOptions = { nonce?: string };

export type ListMachinesOptions = {
  /** Exact-match filters, sent as `metadata.<key>=<value>` (docs: machines-resource). */
  metadata?: Record<string, string>;
  includeDeleted?: boolean;
  region?: string;
  /** Comma-joined into `state=` (e.g. `['started','stopped']`). */
  state?: string[];
  /** Omit config, events, checks (cheaper listings). */
  summary?: boolean;
};

/**
 * The Fly Machines API as fleetwarden uses it (https://fly.io/docs/machines/api/). Every
 * method takes the app name first and throws {@link FlyApiError} on failure. Features depend
 * on this type, so tests may hand in a fake.
 */
export type FlyClient = {
  getApp(app: string): Promise<App>;
  /** `POST /v1/apps` (201). `orgSlug` defaults to `personal`. */
  createApp(app: string, options?: { orgSlug?: string }): Promise<void>;
  /** Safe to retry: see `createMachineReconciled` (create-machine.ts). */
  createMachine(app: string, request: CreateMachineRequest): Promise<Machine>;
  getMachine(app: string, machineId: string): Promise<Machine>;
  listMachines(app: string, options?: ListMachinesOptions): Promise<Machine[]>;
  /** Sends the whole config; a running machine restarts on the new version. */
  updateMachine(
    app: string,
    machineId: string,
    request: UpdateMachineRequest,
    options?: LeaseOptions,
  ): Promise<Machine>;
  startMachine(
    app: string,
    machineId: string,
    options?: LeaseOptions,
  ): Promise<StartMachineResponse>;
  /** `timeout` is a Go duration string such as `"30s"`; `signal` defaults to SIGINT on Fly. */
  stopMachine(app: string, machineId: string, options?: StopRequest & LeaseOptions): Promise<void>;
  /** `timeout` as for stop; `forceStop` kills instead of signalling. */
  restartMachine(
    app: string,
    machineId: string,
    options?: { signal?: string; timeout?: string; forceStop?: boolean } & LeaseOptions,
  ): Promise<void>;
  suspendMachine(app: string, machineId: string, options?: LeaseOptions): Promise<void>;
  /** Without `force`, a running machine is a 412 failed_precondition. */
  deleteMachine(
    app: string,
    machineId: string,
    options?: { force?: boolean } & LeaseOptions,
  ): Promise<void>;
  /**
   * One `GET …/wait` (docs: machines-resource, "Wait for a Machine to reach a specified
   * state"). `timeoutSeconds` is clamped to 1–60 (default 60), as fly-go does, because the
   * API rejects anything else with 400. Throws FlyApiError 408 `deadline_exceeded` when the
   * timeout passes; `waitForMachineState` (wait.ts) re-waits up to a longer deadline.
   * `instanceId` is required by Fly for `state: 'stopped'`.
   */
  waitMachine(
    app: string,
    machineId: string,
    options: { state: WaitState; instanceId?: string; timeoutSeconds?: number },
  ): Promise<WaitMachineResponse>;
  /** New lease for `ttlSeconds`, or a refresh of `nonce`'s lease; 409 `aborted` if held. */
  acquireLease(
    app: string,
    machineId: string,
    options: { ttlSeconds: number; description?: string; nonce?: string },
  ): Promise<Lease>;
  releaseLease(app: string, machineId: string, nonce: string): Promise<void>;
  listMachineEvents(app: string, machineId: string): Promise<MachineEvent[]>;
  /**
   * With `nameIsUnique` (the caller named the volume for this request alone), an ambiguous
   * failure is reconciled by name instead of risking a second volume: see
   * `createVolumeReconciled` (create-volume.ts).
   */
  createVolume(
    app: string,
    request: CreateVolumeRequest,
    options?: { nameIsUnique?: boolean },
  ): Promise<Volume>;
  getVolume(app: string, volumeId: string): Promise<Volume>;
  /**
   * Fly lists soft-deleted volumes too; like fly-go's `GetVolumes`, they are dropped unless
   * `includeDeleted` (states `scheduling_destroy`, `pending_destroy`, …).
   */
  listVolumes(app: string, options?: { includeDeleted?: boolean }): Promise<Volume[]>;
  /** Soft delete (`pending_destroy`); 412 while attached to a live machine. */
  deleteVolume(app: string, volumeId: string): Promise<Volume>;
  /** Grow to `sizeGb` (total GB). `needs_restart`: the machine must restart to see it. */
  extendVolume(app: string, volumeId: string, sizeGb: number): Promise<ExtendVolumeResponse>;
  listSnapshots(app: string, volumeId: string): Promise<VolumeSnapshot[]>;
  /** On-demand snapshot. The response body is undocumented, so list snapshots to see it. */
  createSnapshot(app: string, volumeId: string): Promise<void>;
};
