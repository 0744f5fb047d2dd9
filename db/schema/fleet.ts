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
  uuid,
} from 'drizzle-orm/pg-core';
import { admins } from './auth.ts';
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { users } from './users.ts';

export const INSTANCE_STATUSES = [
  'provisioning',
  'running',
  'stopped',
  'restarting',
  'recovering',
  'destroying',
  'destroyed',
  'failed',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** What may hold an instance: a live CLI run, or its deprovision (src/deprovision). */
export const HOLD_KINDS = ['cli_run', 'deprovision'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** Image versions an instance may run. At most one `is_latest` per variant. */
export const imageCatalog = pgTable(
  'image_catalog',
  {
    imageTag: text().primaryKey(),
    versionLabel: text().notNull(),
    variant: text().notNull().default('default'),
    status: text({ enum: ['available', 'disabled'] })
      .notNull()
      .default('available'),
    isLatest: boolean().notNull().default(false),
    publishedAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('image_catalog_one_latest_per_variant').on(t.variant).where(sql`${t.isLatest}`),
    check('image_catalog_status_check', sql`${t.status} in ('available', 'disabled')`),
  ],
);

/**
 * One agent instance: one Fly Machine with one attached Fly Volume in a Fly app.
 * `search_text` is kept by a trigger (see migrations) from the instance's and its user's
 * names so the console's substring search can use a trigram index.
 */
export const instances = pgTable(
  'instances',
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    name: text().notNull(),
    appName: text().notNull(),
    machineId: text(),
    volumeId: text(),
    region: text().notNull(),
    imageTag: text().references(() => imageCatalog.imageTag),
    /** The Fly machine version (`instance_id`) the instance last ran healthy on. */
    machineVersion: text(),
    status: text({ enum: INSTANCE_STATUSES }).notNull().default('provisioning'),
    /** Why the last action on this instance failed, shown on its page; cleared on success. */
    lastError: text(),
    /**
     * A hold another feature has on the instance (src/fleet/holds.ts): while set, the
     * instance rejects restart, version change and stop, and scheduled targets back off as
     * from a busy instance. `hold_kind` says what holds it, `hold_id` which one.
     */
    holdKind: text({ enum: HOLD_KINDS }),
    holdId: uuid(),
    searchText: text().notNull().default(''),
    createdAt: tstz().notNull().defaultNow(),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('instances_name_key').on(t.name),
    uniqueIndex('instances_machine_key').on(t.appName, t.machineId),
    index('instances_user_id_idx').on(t.userId),
    // Keyset pagination: one index per sortable column, id breaks ties.
    index('instances_created_at_idx').on(t.createdAt, t.id),
    index('instances_name_id_idx').on(t.name, t.id),
    index('instances_status_id_idx').on(t.status, t.id),
    index('instances_region_id_idx').on(t.region, t.id),
    index('instances_image_tag_id_idx').on(sql`coalesce(${t.imageTag}, '')`, t.id),
    index('instances_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    check('instances_status_check', sql`${t.status} in (${inList(INSTANCE_STATUSES)})`),
    check('instances_hold_kind_check', sql`${t.holdKind} in (${inList(HOLD_KINDS)})`),
    check('instances_hold_check', sql`(${t.holdKind} is null) = (${t.holdId} is null)`),
  ],
);

/** Holds an instance on one image version until an admin overrides it (one pin per instance). */
export const versionPins = pgTable('version_pins', {
  instanceId: uuid()
    .primaryKey()
    .references(() => instances.id, { onDelete: 'cascade' }),
  imageTag: text()
    .notNull()
    .references(() => imageCatalog.imageTag),
  pinnedBy: uuid().references(() => admins.id, { onDelete: 'set null' }),
  reason: text(),
  createdAt: tstz().notNull().defaultNow(),
});

/** What happened to an instance, newest first on its page (a lifecycle timeline). */
export const instanceEvents = pgTable(
  'instance_events',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    type: text().notNull(),
    /** Who caused it, as shown at the time (admin email, token label, `system`). */
    actorLabel: text().notNull().default('system'),
    payload: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    at: tstz().notNull().defaultNow(),
  },
  (t) => [index('instance_events_instance_at_idx').on(t.instanceId, t.at.desc(), t.id.desc())],
);

export const OPERATION_KINDS = ['provision', 'restart', 'version_change', 'stop', 'start'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export const OPERATION_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/** `call`: make the Fly call; `settle`: wait for the machine state and version; `probe`: health check. */
export const OPERATION_STEPS = ['call', 'settle', 'probe', 'done'] as const;
export type OperationStep = (typeof OPERATION_STEPS)[number];

/**
 * An immediate action on one instance, carried out by doorbells (one step per callback, a
 * claim with a lease before every Fly call). At most one active (pending or running)
 * operation per instance, enforced by a partial unique index.
 */
export const instanceOperations = pgTable(
  'instance_operations',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    /** Creation order (timestamps can tie within a millisecond). */
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity(),
    kind: text({ enum: OPERATION_KINDS }).notNull(),
    status: text({ enum: OPERATION_STATUSES }).notNull().default('pending'),
    step: text({ enum: OPERATION_STEPS }).notNull().default('call'),
    fromImageTag: text(),
    targetImageTag: text(),
    /** The machine version (`instance_id`) the update returned: the one that must come up healthy. */
    expectedVersion: text(),
    /**
     * The state the machine must settle in: `started`, or `stopped` for a stop and for a
     * version change of a stopped machine (Fly's update leaves a stopped machine stopped).
     */
    expectedState: text({ enum: ['started', 'stopped'] }),
    requestedBy: text().notNull(),
    /** Step claims: each doorbell that runs a step claims it first, with a lease. */
    ...claimColumns(),
    ...leaseColumn(),
    /** Consecutive unhealthy gateway probes in the `probe` step. */
    probeFailures: integer().notNull().default(0),
    /** Why the last step did not finish (a retry is coming); cleared when a step completes. */
    lastNote: text(),
    /** When the next step may run (doorbells are rung for this time). */
    nextCheckAt: tstz().notNull().defaultNow(),
    /** The whole action fails if the machine is not healthy on the expected version by then. */
    deadlineAt: tstz().notNull(),
    error: text(),
    createdAt: tstz().notNull().defaultNow(),
    updatedAt: tstz().notNull().defaultNow(),
    finishedAt: tstz(),
  },
  (t) => [
    uniqueIndex('instance_operations_one_active_per_instance')
      .on(t.instanceId)
      .where(sql`${t.status} in ('pending', 'running')`),
    index('instance_operations_instance_seq_idx').on(t.instanceId, t.seq.desc()),
    index('instance_operations_due_idx')
      .on(t.nextCheckAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    check('instance_operations_kind_check', sql`${t.kind} in (${inList(OPERATION_KINDS)})`),
    check('instance_operations_status_check', sql`${t.status} in (${inList(OPERATION_STATUSES)})`),
    check('instance_operations_step_check', sql`${t.step} in (${inList(OPERATION_STEPS)})`),
    check(
      'instance_operations_expected_state_check',
      sql`${t.expectedState} is null or ${t.expectedState} in ('started', 'stopped')`,
    ),
  ],
);
