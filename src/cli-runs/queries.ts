import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  CLI_RUN_CLEANUPS,
  CLI_RUN_STATUSES,
  type CliRunInitiator,
  type CliRunStatus,
  cliRuns,
  LIVE_CLI_RUN_STATUSES,
} from '../../db/schema/index.ts';
import { instanceExists, requireUserInstance } from '../fleet/instances.ts';
import { type Cursor, decodeCursor, keysetPage, type Page, seekPast } from '../lib/cursor.ts';
import { NotFoundError } from '../lib/errors.ts';
import { type CliRun, findRun } from './model.ts';

export { CLI_RUN_CLEANUPS, CLI_RUN_STATUSES };

export const CLI_RUN_SORTS = ['created', 'status', 'instance'] as const;
export type CliRunSort = (typeof CLI_RUN_SORTS)[number];

export type CliRunFilter = {
  status?: CliRunStatus[];
  initiatedBy?: CliRunInitiator;
  instanceId?: string;
  /** Case-insensitive substring of the prompt, instance id or name, or the user's email. */
  q?: string;
};

export type CliRunListQuery = CliRunFilter & {
  sort?: CliRunSort;
  order?: 'asc' | 'desc';
  cursor?: string;
  /** 1–200, default 50. */
  limit?: number;
};

// Each sort has an (expression, id) order; `id` breaks ties so pages never overlap.
const SORT_COLUMN: Record<CliRunSort, SQL> = {
  created: sql`${cliRuns.createdAt}`,
  status: sql`${cliRuns.status}`,
  instance: sql`${cliRuns.instanceName}`,
};

function filterSql(filter: CliRunFilter): SQL | undefined {
  const where: SQL[] = [];
  if (filter.status?.length) where.push(inArray(cliRuns.status, filter.status));
  if (filter.initiatedBy) where.push(eq(cliRuns.initiatedBy, filter.initiatedBy));
  if (filter.instanceId) where.push(eq(cliRuns.instanceId, filter.instanceId));
  const q = filter.q?.trim().toLowerCase();
  if (q) where.push(sql`${cliRuns.searchText} like ${`%${q.replace(/[\\%_]/g, '\\$&')}%`}`);
  return where.length ? and(...where) : undefined;
}

const sortKeyOf = (run: CliRun, sort: CliRunSort) =>
  sort === 'created'
    ? run.createdAt.toISOString()
    : sort === 'status'
      ? run.status
      : run.instanceName;

/**
 * One page of an instance's runs (newest first), kept after the instance is destroyed.
 * Throws {@link NotFoundError} (404) for an instance id the fleet never had.
 */
export async function listInstanceCliRuns(
  db: Db,
  instanceId: string,
  page: Pick<CliRunListQuery, 'cursor' | 'limit' | 'initiatedBy'>,
): Promise<Page<CliRun>> {
  if (!(await instanceExists(db, instanceId))) throw new NotFoundError('Instance', instanceId);
  return listCliRuns(db, { instanceId, ...page });
}

/**
 * One page of runs, keyset-paginated on (sort column, id). Default newest first. Throws
 * 400 `invalid-cursor` on a malformed cursor or one made for another sort.
 */
export async function listCliRuns(db: Db, query: CliRunListQuery): Promise<Page<CliRun>> {
  const sort = query.sort ?? 'created';
  const order = query.order ?? (sort === 'created' ? 'desc' : 'asc');
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const cursor: Cursor | null = query.cursor
    ? decodeCursor(query.cursor, sort === 'created' ? 'date' : 'text')
    : null;
  const column = SORT_COLUMN[sort];
  const backwards = cursor?.dir === 'before';
  const ascending = (order === 'asc') !== backwards;
  const seek = cursor
    ? seekPast({ column, id: cliRuns.id, cursor, ascending, dateKey: sort === 'created' })
    : undefined;
  const dir = ascending ? sql`asc` : sql`desc`;
  const rows = await db
    .select()
    .from(cliRuns)
    .where(and(filterSql(query), seek))
    .orderBy(sql`${column} ${dir}`, sql`${cliRuns.id} ${dir}`)
    .limit(limit + 1);
  return keysetPage(rows, limit, cursor, (row) => sortKeyOf(row, sort));
}

/** How many runs match a filter. */
export async function countCliRuns(db: Db, filter: CliRunFilter): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(cliRuns)
    .where(filterSql(filter));
  return row?.n ?? 0;
}

/** One run by id; 404 `not-found` when there is none. */
export async function getCliRun(db: Db, id: string): Promise<CliRun> {
  const run = await findRun(db, id);
  if (!run) throw new NotFoundError('CLI run', id);
  return run;
}

/**
 * Checks that run `id` is one user `userId` may see: started by a user (`initiatedBy:
 * user`) on an instance of theirs. An admin's run, or another user's, throws the same
 * NotFoundError as a run that never existed.
 */
export async function requireUserCliRun(db: Db, id: string, userId: string): Promise<void> {
  const run = await findRun(db, id);
  const missing = new NotFoundError('CLI run', id);
  if (run?.initiatedBy !== 'user') throw missing;
  await requireUserInstance(db, run.instanceId, userId).catch(() => {
    throw missing;
  });
}

/** The live run of an instance, if any. */
export async function liveCliRun(db: Db, instanceId: string): Promise<CliRun | null> {
  const [row] = await db
    .select()
    .from(cliRuns)
    .where(
      and(eq(cliRuns.instanceId, instanceId), inArray(cliRuns.status, [...LIVE_CLI_RUN_STATUSES])),
    );
  return row ?? null;
}

/**
 * The output kept for a run (its last 64 KiB) from byte offset `after` on: `text` is what
 * follows `after` (all that is kept when `after` is older than the kept tail, with
 * `truncated`), `size` the total bytes seen, which is the `after` of the next read.
 */
export function outputAfter(run: CliRun, after = 0) {
  const bytes = new TextEncoder().encode(run.outputTail);
  const tailStart = run.outputSize - bytes.length;
  const from = Math.max(0, Math.min(bytes.length, after - tailStart));
  return {
    text: new TextDecoder().decode(bytes.subarray(from)),
    offset: tailStart + from,
    size: run.outputSize,
    truncated: after < tailStart,
  };
}

/** What an instance's page shows: its live run, if any, and its newest runs. */
export async function cliRunCardData(db: Db, instanceId: string, recent = 5) {
  const page = await listCliRuns(db, { instanceId, limit: recent });
  const live = page.items.find((r) => r.status === 'starting' || r.status === 'running');
  return { live: live ?? (await liveCliRun(db, instanceId)), recent: page.items };
}
