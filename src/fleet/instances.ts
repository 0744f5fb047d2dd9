import { and, eq, inArray, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import {
  INSTANCE_STATUSES,
  type InstanceStatus,
  imageCatalog,
  instances,
  users,
  versionPins,
} from '../../db/schema/index.ts';

export { INSTANCE_STATUSES, type InstanceStatus };

import { type Cursor, decodeCursor, keysetPage, type Page, seekPast } from '../lib/cursor.ts';
import { NotFoundError } from '../lib/errors.ts';

export const INSTANCE_SORTS = ['created', 'name', 'status', 'region', 'version'] as const;
export type InstanceSort = (typeof INSTANCE_SORTS)[number];

export type InstanceFilter = {
  /** Case-insensitive substring of name, machine id, app, owner email or name. */
  q?: string;
  status?: InstanceStatus[];
  region?: string;
  imageTag?: string;
  hasPin?: boolean;
  userId?: string;
};

export type InstanceListQuery = InstanceFilter & {
  sort?: InstanceSort;
  order?: 'asc' | 'desc';
  cursor?: string;
  /** 1–200, default 50. */
  limit?: number;
};

export type InstanceListItem = {
  id: string;
  name: string;
  appName: string;
  machineId: string | null;
  region: string;
  imageTag: string | null;
  status: InstanceStatus;
  createdAt: Date;
  updatedAt: Date;
  user: { id: string; email: string; displayName: string | null };
  pinnedImageTag: string | null;
};

// Each sort has a matching (expression, id) index; `id` breaks ties so pages never
// overlap or skip rows.
const SORT_COLUMN: Record<InstanceSort, SQL> = {
  created: sql`${instances.createdAt}`,
  name: sql`${instances.name}`,
  status: sql`${instances.status}`,
  region: sql`${instances.region}`,
  version: sql`coalesce(${instances.imageTag}, '')`,
};

function filterSql(filter: InstanceFilter): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  const q = filter.q?.trim().toLowerCase();
  if (q) where.push(sql`${instances.searchText} like ${`%${q.replace(/[\\%_]/g, '\\$&')}%`}`);
  if (filter.status?.length) where.push(inArray(instances.status, filter.status));
  if (filter.region) where.push(eq(instances.region, filter.region));
  if (filter.imageTag) where.push(eq(instances.imageTag, filter.imageTag));
  if (filter.userId) where.push(eq(instances.userId, filter.userId));
  if (filter.hasPin !== undefined)
    where.push(filter.hasPin ? isNotNull(versionPins.instanceId) : isNull(versionPins.instanceId));
  return where.length ? and(...where) : undefined;
}

const listColumns = {
  id: instances.id,
  name: instances.name,
  appName: instances.appName,
  machineId: instances.machineId,
  region: instances.region,
  imageTag: instances.imageTag,
  status: instances.status,
  createdAt: instances.createdAt,
  updatedAt: instances.updatedAt,
  userId: users.id,
  userEmail: users.email,
  userDisplayName: users.displayName,
  pinnedImageTag: versionPins.imageTag,
};

type ListRow = { [K in keyof typeof listColumns]: (typeof listColumns)[K]['_']['data'] | null } & {
  id: string;
  name: string;
};

function sortKeyOf(row: InstanceListItem, sort: InstanceSort): string {
  switch (sort) {
    case 'created':
      return row.createdAt.toISOString();
    case 'name':
      return row.name;
    case 'status':
      return row.status;
    case 'region':
      return row.region;
    case 'version':
      return row.imageTag ?? '';
  }
}

function toItem(r: ListRow): InstanceListItem {
  return {
    id: r.id,
    name: r.name,
    appName: r.appName ?? '',
    machineId: r.machineId ?? null,
    region: r.region ?? '',
    imageTag: r.imageTag ?? null,
    status: (r.status ?? 'failed') as InstanceStatus,
    createdAt: r.createdAt as Date,
    updatedAt: r.updatedAt as Date,
    user: { id: r.userId ?? '', email: r.userEmail ?? '', displayName: r.userDisplayName ?? null },
    pinnedImageTag: r.pinnedImageTag ?? null,
  };
}

/**
 * One page of instances, keyset-paginated on (sort column, id) so any page costs the same
 * at 100,000 rows. Default: newest first. Throws 400 on a malformed cursor, or one made
 * for a different sort.
 */
export async function listInstances(
  db: Db,
  query: InstanceListQuery,
): Promise<Page<InstanceListItem>> {
  const sort = query.sort ?? 'created';
  const order = query.order ?? (sort === 'created' ? 'desc' : 'asc');
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  // Creation time is a timestamptz key; every other sort is text.
  const cursor: Cursor | null = query.cursor
    ? decodeCursor(query.cursor, sort === 'created' ? 'date' : 'text')
    : null;
  const column = SORT_COLUMN[sort];

  // Reading backwards (previous page) flips the comparison and the order.
  const backwards = cursor?.dir === 'before';
  const ascending = (order === 'asc') !== backwards;
  const seek = cursor
    ? seekPast({ column, id: instances.id, cursor, ascending, dateKey: sort === 'created' })
    : undefined;
  const dir = ascending ? sql`asc` : sql`desc`;
  const rows = await db
    .select(listColumns)
    .from(instances)
    .innerJoin(users, eq(users.id, instances.userId))
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .where(and(filterSql(query), seek))
    .orderBy(sql`${column} ${dir}`, sql`${instances.id} ${dir}`)
    .limit(limit + 1);
  return keysetPage(
    rows.map((r) => toItem(r as ListRow)),
    limit,
    cursor,
    (row) => sortKeyOf(row, sort),
  );
}

/** How many instances match a filter (for "N instances" above the table). */
export async function countInstances(db: Db, filter: InstanceFilter): Promise<number> {
  const needsPins = filter.hasPin !== undefined;
  const base = db.select({ n: sql<number>`count(*)::int` }).from(instances);
  const rows = needsPins
    ? await base
        .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
        .where(filterSql(filter))
    : await base.where(filterSql(filter));
  return rows[0]?.n ?? 0;
}

export type InstanceDetail = InstanceListItem & {
  volumeId: string | null;
  machineVersion: string | null;
  lastError: string | null;
};

/** Whether the fleet has (or had: destroyed rows stay) an instance with this id. */
export async function instanceExists(db: Db, id: string): Promise<boolean> {
  const [row] = await db.select({ id: instances.id }).from(instances).where(eq(instances.id, id));
  return Boolean(row);
}

/**
 * Checks that instance `id` belongs to user `userId`. Throws the same NotFoundError as an
 * instance that never existed otherwise, so another user's instance is never hinted at.
 */
export async function requireUserInstance(db: Db, id: string, userId: string): Promise<void> {
  const [row] = await db
    .select({ id: instances.id })
    .from(instances)
    .where(and(eq(instances.id, id), eq(instances.userId, userId)));
  if (!row) throw new NotFoundError('Instance', id);
}

export async function getInstance(db: Db, id: string): Promise<InstanceDetail> {
  const [row] = await db
    .select({
      ...listColumns,
      volumeId: instances.volumeId,
      machineVersion: instances.machineVersion,
      lastError: instances.lastError,
    })
    .from(instances)
    .innerJoin(users, eq(users.id, instances.userId))
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .where(eq(instances.id, id));
  if (!row) throw new NotFoundError('Instance', id);
  return {
    ...toItem(row as ListRow),
    volumeId: row.volumeId,
    machineVersion: row.machineVersion,
    lastError: row.lastError,
  };
}

/** Names of the given instances by id (unknown ids are left out), for messages that list them. */
export async function instanceNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: instances.id, name: instances.name })
    .from(instances)
    .where(inArray(instances.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r.name]));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Pasted instance references, each an id or an instance name, as ids (in the order given,
 * duplicates once). Ids pass through unchecked (the scheduler reports unknown ids as not
 * found); names are looked up exactly, and those that name no instance are `unknown`.
 */
export async function resolveInstanceRefs(
  db: Db,
  refs: string[],
): Promise<{ ids: string[]; unknown: string[] }> {
  const names = [...new Set(refs.filter((r) => !UUID.test(r)))];
  const found = names.length
    ? await db
        .select({ id: instances.id, name: instances.name })
        .from(instances)
        .where(inArray(instances.name, names))
    : [];
  const byName = new Map(found.map((r) => [r.name, r.id]));
  const ids = [
    ...new Set(refs.map((r) => (UUID.test(r) ? r.toLowerCase() : byName.get(r))).filter(Boolean)),
  ] as string[];
  return { ids, unknown: names.filter((n) => !byName.has(n)) };
}

/** Values for the console's filter drop-downs. */
export async function instanceFacets(db: Db): Promise<{ regions: string[]; imageTags: string[] }> {
  // A skip scan over the (region, id) index: one index probe per distinct region instead
  // of reading every row.
  const regions = await queryRows<{ region: string }>(
    db,
    sql`
    with recursive r(region) as (
      select min(region) from instances
      union all
      select (select min(region) from instances where region > r.region) from r where r.region is not null
    )
    select region from r where region is not null`,
  );
  const tags = await db
    .select({ tag: imageCatalog.imageTag })
    .from(imageCatalog)
    .orderBy(sql`${imageCatalog.publishedAt} desc`);
  return { regions: regions.map((r) => r.region), imageTags: tags.map((t) => t.tag) };
}

/** What another feature needs to act on an instance: its state, machine and its user's zone. */
export type InstanceTarget = {
  id: string;
  name: string;
  status: InstanceStatus;
  appName: string;
  machineId: string | null;
  /** The owning user's IANA zone (`users.time_zone`). */
  userTimeZone: string;
};

/** {@link InstanceTarget}s of the given instances by id, in one query (unknown ids are left out). */
export async function instanceTargets(db: Db, ids: string[]): Promise<Map<string, InstanceTarget>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({
      id: instances.id,
      name: instances.name,
      status: instances.status,
      appName: instances.appName,
      machineId: instances.machineId,
      userTimeZone: users.timeZone,
    })
    .from(instances)
    .innerJoin(users, eq(users.id, instances.userId))
    .where(inArray(instances.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}
