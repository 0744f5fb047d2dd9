import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { admins } from './auth.ts';
import { tstz } from './columns.ts';
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
    status: text({ enum: INSTANCE_STATUSES }).notNull().default('provisioning'),
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
