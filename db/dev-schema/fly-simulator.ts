// Tables of the in-process Fly Machines simulator (src/dev-servers/fly-simulator). Used only in
// embedded mode and tests; production talks to api.machines.dev and never reads them.
// State lives here (not in memory) so a demo fleet survives a restart.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { tstz } from '../schema/columns.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** Machine states as Fly documents them (docs: machines/machine-states). */
export const SIM_FLY_MACHINE_STATES = [
  'created',
  'starting',
  'started',
  'stopping',
  'stopped',
  'suspending',
  'suspended',
  'restarting',
  'updating',
  'replacing',
  'destroying',
  'destroyed',
  'failed',
  'launch_failed',
] as const;
export type SimFlyMachineState = (typeof SIM_FLY_MACHINE_STATES)[number];

/** Volume states (docs: volumes/volume-states), plus `destroyed` from the API example. */
export const SIM_FLY_VOLUME_STATES = [
  'creating',
  'created',
  'extending',
  'restoring',
  'enabling_remote_export',
  'hydrating',
  'recovering',
  'scheduling_destroy',
  'pending_destroy',
  'destroyed',
] as const;
export type SimFlyVolumeState = (typeof SIM_FLY_VOLUME_STATES)[number];

export const SIM_FLY_SNAPSHOT_STATUSES = ['waiting', 'running', 'created', 'failed'] as const;

/**
 * A future transition of a machine or volume, applied lazily by the first request that
 * reads the row at or after `at` (epoch ms). `revertTo` (machines) names the version an
 * update falls back to when its image cannot be pulled.
 */
export type SimFlyStep = {
  at: number;
  state: string;
  event?: {
    type: string;
    status: string;
    source: 'user' | 'flyd';
    request?: Record<string, unknown>;
  };
  revertTo?: string;
};

export const simFlyApps = pgTable(
  'sim_fly_apps',
  {
    name: text().primaryKey(),
    id: text().notNull(),
    orgSlug: text().notNull().default('personal'),
    status: text({ enum: ['pending', 'deployed', 'suspended'] })
      .notNull()
      .default('deployed'),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    check('sim_fly_apps_status_check', sql`${t.status} in ('pending', 'deployed', 'suspended')`),
  ],
);

/**
 * One machine. `config` is the current version's config (also in the versions table);
 * `steps` are pending transitions and `due_at` the earliest of them, so reads find rows to
 * advance with an index. Every write bumps `revision` and is guarded by it.
 */
export const simFlyMachines = pgTable(
  'sim_fly_machines',
  {
    id: text().primaryKey(),
    appName: text()
      .notNull()
      .references(() => simFlyApps.name, { onDelete: 'cascade' }),
    name: text().notNull(),
    region: text().notNull(),
    /** The host, as Fly's 4-hex zone; a machine with a volume lives on the volume's zone. */
    zone: text().notNull(),
    state: text({ enum: SIM_FLY_MACHINE_STATES }).notNull(),
    instanceId: text().notNull(),
    privateIp: text().notNull(),
    config: jsonb().$type<Record<string, unknown>>().notNull(),
    steps: jsonb().$type<SimFlyStep[]>().notNull().default([]),
    dueAt: tstz(),
    revision: integer().notNull().default(0),
    createdAt: tstz().notNull(),
    updatedAt: tstz().notNull(),
  },
  (t) => [
    // Names are unique among an app's machines; a destroyed machine's name may be reused.
    uniqueIndex('sim_fly_machines_app_name_key')
      .on(t.appName, t.name)
      .where(sql`${t.state} <> 'destroyed'`),
    index('sim_fly_machines_app_idx').on(t.appName, t.createdAt),
    index('sim_fly_machines_due_idx').on(t.dueAt),
    index('sim_fly_machines_metadata_idx').using('gin', sql`(${t.config} -> 'metadata')`),
    check('sim_fly_machines_state_check', sql`${t.state} in (${inList(SIM_FLY_MACHINE_STATES)})`),
  ],
);

/** Every config a machine has had; one `current`, the rest `replaced` (docs: machine-states). */
export const simFlyMachineVersions = pgTable(
  'sim_fly_machine_versions',
  {
    instanceId: text().primaryKey(),
    machineId: text()
      .notNull()
      .references(() => simFlyMachines.id, { onDelete: 'cascade' }),
    config: jsonb().$type<Record<string, unknown>>().notNull(),
    status: text({ enum: ['current', 'replaced'] }).notNull(),
    createdAt: tstz().notNull(),
  },
  (t) => [
    index('sim_fly_machine_versions_machine_idx').on(t.machineId, t.createdAt),
    check('sim_fly_machine_versions_status_check', sql`${t.status} in ('current', 'replaced')`),
  ],
);

export const simFlyMachineEvents = pgTable(
  'sim_fly_machine_events',
  {
    id: text().primaryKey(),
    machineId: text()
      .notNull()
      .references(() => simFlyMachines.id, { onDelete: 'cascade' }),
    type: text().notNull(),
    status: text().notNull(),
    source: text({ enum: ['user', 'flyd'] }).notNull(),
    request: jsonb().$type<Record<string, unknown>>(),
    at: tstz().notNull(),
  },
  (t) => [
    index('sim_fly_machine_events_machine_idx').on(t.machineId, t.at),
    check('sim_fly_machine_events_source_check', sql`${t.source} in ('user', 'flyd')`),
  ],
);

/** A lease on a machine (docs: machines-resource, leases); at most one row per machine. */
export const simFlyLeases = pgTable('sim_fly_leases', {
  machineId: text()
    .primaryKey()
    .references(() => simFlyMachines.id, { onDelete: 'cascade' }),
  nonce: text().notNull(),
  owner: text().notNull(),
  description: text().notNull().default(''),
  version: text().notNull(),
  expiresAt: tstz().notNull(),
});

/** A volume: bound to one host (`region` + `zone`), attached to at most one machine. */
export const simFlyVolumes = pgTable(
  'sim_fly_volumes',
  {
    id: text().primaryKey(),
    appName: text()
      .notNull()
      .references(() => simFlyApps.name, { onDelete: 'cascade' }),
    name: text().notNull(),
    region: text().notNull(),
    zone: text().notNull(),
    sizeGb: integer().notNull(),
    state: text({ enum: SIM_FLY_VOLUME_STATES }).notNull(),
    encrypted: boolean().notNull().default(true),
    fstype: text().notNull().default('ext4'),
    snapshotRetention: integer().notNull().default(5),
    autoBackupEnabled: boolean().notNull().default(true),
    attachedMachineId: text().references(() => simFlyMachines.id, { onDelete: 'set null' }),
    sourceVolumeId: text(),
    snapshotId: text(),
    compute: jsonb().$type<Record<string, unknown>>(),
    steps: jsonb().$type<SimFlyStep[]>().notNull().default([]),
    dueAt: tstz(),
    revision: integer().notNull().default(0),
    createdAt: tstz().notNull(),
    deletedAt: tstz(),
  },
  (t) => [
    // One machine per volume is the column itself; one volume per machine is this index.
    uniqueIndex('sim_fly_volumes_attached_machine_key')
      .on(t.attachedMachineId)
      .where(sql`${t.attachedMachineId} is not null`),
    index('sim_fly_volumes_app_idx').on(t.appName, t.createdAt),
    check('sim_fly_volumes_state_check', sql`${t.state} in (${inList(SIM_FLY_VOLUME_STATES)})`),
    check('sim_fly_volumes_snapshot_retention_check', sql`${t.snapshotRetention} between 1 and 60`),
  ],
);

export const simFlySnapshots = pgTable(
  'sim_fly_snapshots',
  {
    id: text().primaryKey(),
    volumeId: text()
      .notNull()
      .references(() => simFlyVolumes.id, { onDelete: 'cascade' }),
    status: text({ enum: SIM_FLY_SNAPSHOT_STATUSES }).notNull(),
    size: bigint({ mode: 'number' }).notNull(),
    volumeSize: integer().notNull(),
    digest: text().notNull(),
    retentionDays: integer().notNull(),
    /** When `status` becomes `created` (applied lazily on read). */
    readyAt: tstz().notNull(),
    createdAt: tstz().notNull(),
  },
  (t) => [
    index('sim_fly_snapshots_volume_idx').on(t.volumeId, t.createdAt),
    check(
      'sim_fly_snapshots_status_check',
      sql`${t.status} in (${inList(SIM_FLY_SNAPSHOT_STATUSES)})`,
    ),
  ],
);
