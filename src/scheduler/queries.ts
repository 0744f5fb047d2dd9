import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { instanceNames } from '../fleet/instances.ts';
import { contactsOf } from '../fleet/users.ts';
import { type Cursor, decodeCursor, keysetPage, type Page } from '../lib/cursor.ts';
import { AppError, NotFoundError } from '../lib/errors.ts';
import type { ScheduledAction, Stage, Target } from './model.ts';

export const ACTION_SORTS = ['run_at', 'created', 'status'] as const;

export type ActionListQuery = {
  status?: ScheduledAction['status'][];
  actionType?: ScheduledAction['actionType'];
  sort?: (typeof ACTION_SORTS)[number];
  order?: 'asc' | 'desc';
  cursor?: string;
  limit?: number;
};

/**
 * Status sort follows the lifecycle an operator scans for: live work first, then paused and
 * halted (need a decision), then waiting, then finished. Ties break on run time, then id.
 */
const STATUS_RANK_OF: Record<ScheduledAction['status'], number> = {
  running: 0,
  // Still applying targets (a cancel waits for them): live work, before anything waiting.
  cancelling: 1,
  paused: 2,
  halted: 3,
  scheduled: 4,
  failed: 5,
  completed: 6,
  cancelled: 7,
};
const STATUS_RANK = sql<number>`case ${scheduledActions.status} ${sql.join(
  Object.entries(STATUS_RANK_OF).map(([status, rank]) => sql`when ${status} then ${rank}::int`),
  sql` `,
)} end`;

const invalidCursor = () =>
  new AppError(
    400,
    'invalid-cursor',
    'Invalid cursor',
    'The cursor was made for another sort or order; start from the first page.',
  );

type ActionSort = (typeof ACTION_SORTS)[number];
/** The row's sort key: run time or creation time, or status rank and run time. */
type SortKey = { at: Date; rank?: number };

/**
 * Actions, newest run time first by default; keyset-paginated on (run_at or created_at, id),
 * or on (status rank, run_at, id) for `sort: 'status'`. A cursor names the sort and order it
 * was made for; any other is a 400.
 */
/** An action with how many of its targets are being applied now (summed over its stages). */
export type ActionRow = ScheduledAction & { running: number };

export async function listActions(db: Db, query: ActionListQuery): Promise<Page<ActionRow>> {
  const limit = Math.min(Math.max(query.limit ?? 25, 1), 200);
  const sort = query.sort ?? 'run_at';
  const order = query.order ?? 'desc';
  const scope = `${sort}.${order}`;
  const cursor: Cursor | null = query.cursor ? decodeCursor(query.cursor) : null;
  const from = cursor ? readKey(cursor, scope, sort) : null;
  const backwards = cursor?.dir === 'before';
  const ascending = (order === 'asc') !== backwards;
  const column = sort === 'created' ? scheduledActions.createdAt : scheduledActions.runAt;
  const keys: SQL[] = sort === 'status' ? [STATUS_RANK, sql`${column}`] : [sql`${column}`];
  const where: (SQL | undefined)[] = [];
  if (query.status?.length) where.push(inArray(scheduledActions.status, query.status));
  if (query.actionType) where.push(eq(scheduledActions.actionType, query.actionType));
  if (cursor && from) {
    const values = [
      ...(from.rank === undefined ? [] : [sql`${from.rank}::int`]),
      sql`${from.at.toISOString()}::timestamptz`,
      sql`${cursor.id}::uuid`,
    ];
    where.push(
      sql`(${sql.join([...keys, sql`${scheduledActions.id}`], sql`, `)}) ${ascending ? sql`>` : sql`<`} (${sql.join(values, sql`, `)})`,
    );
  }
  const found = await db
    .select({
      action: scheduledActions,
      running: sql<number>`(select coalesce(sum(${scheduledActionStages.running}), 0)::int from ${scheduledActionStages} where ${scheduledActionStages.actionId} = ${scheduledActions.id})`,
    })
    .from(scheduledActions)
    .where(and(...where))
    .orderBy(...[...keys, sql`${scheduledActions.id}`].map((k) => (ascending ? asc(k) : desc(k))))
    .limit(limit + 1);
  const rows: ActionRow[] = found.map((r) => ({ ...r.action, running: r.running }));
  return keysetPage(rows, limit, cursor, (a) =>
    writeKey(scope, sort, {
      at: sort === 'created' ? a.createdAt : a.runAt,
      rank: STATUS_RANK_OF[a.status],
    }),
  );
}

/** `run_at.desc|2026-…Z`, or `status.asc|2|2026-…Z`: the scope, then the key's parts. */
function writeKey(scope: string, sort: ActionSort, k: SortKey): string {
  return sort === 'status'
    ? `${scope}|${k.rank}|${k.at.toISOString()}`
    : `${scope}|${k.at.toISOString()}`;
}

function readKey(cursor: Cursor, scope: string, sort: ActionSort): SortKey {
  const parts = typeof cursor.key === 'string' ? cursor.key.split('|') : [];
  if (parts[0] !== scope) throw invalidCursor();
  const at = new Date(parts.at(-1) ?? '');
  if (Number.isNaN(at.getTime())) throw invalidCursor();
  if (sort !== 'status') {
    if (parts.length !== 2) throw invalidCursor();
    return { at };
  }
  const rank = Number(parts[1]);
  if (parts.length !== 3 || !Number.isInteger(rank)) throw invalidCursor();
  return { at, rank };
}

export type ActionDetail = ActionRow & { stages: Stage[] };

export async function getAction(db: Db, id: string): Promise<ActionDetail> {
  const [action] = await db.select().from(scheduledActions).where(eq(scheduledActions.id, id));
  if (!action) throw new NotFoundError('Scheduled action', id);
  const stages = await db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, id))
    .orderBy(asc(scheduledActionStages.index));
  return { ...action, stages, running: stages.reduce((n, s) => n + s.running, 0) };
}

/** How many of an action's targets are in each status (statuses with none are absent). */
export async function countTargetsByStatus(
  db: Db,
  actionId: string,
): Promise<Partial<Record<Target['status'], number>>> {
  const rows = await db
    .select({ status: scheduledActionTargets.status, n: sql<number>`count(*)::int` })
    .from(scheduledActionTargets)
    .where(eq(scheduledActionTargets.actionId, actionId))
    .groupBy(scheduledActionTargets.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export type TargetRow = Target & { stageIndex: number; instanceName: string; userEmail: string };

/** A page of an action's targets (filter by status), ordered by stage then id. */
export async function listTargets(
  db: Db,
  actionId: string,
  query: { status?: Target['status'][]; cursor?: string; limit?: number },
): Promise<Page<TargetRow>> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  if (cursor && typeof cursor.key !== 'number')
    throw new AppError(
      400,
      'invalid-cursor',
      'Invalid cursor',
      'The cursor does not match this list.',
    );
  const backwards = cursor?.dir === 'before';
  const where: (SQL | undefined)[] = [eq(scheduledActionTargets.actionId, actionId)];
  if (query.status?.length) where.push(inArray(scheduledActionTargets.status, query.status));
  if (cursor)
    where.push(
      backwards
        ? sql`(${scheduledActionStages.index}, ${scheduledActionTargets.id}) < (${cursor.key}, ${cursor.id}::uuid)`
        : sql`(${scheduledActionStages.index}, ${scheduledActionTargets.id}) > (${cursor.key}, ${cursor.id}::uuid)`,
    );
  const dir = backwards ? desc : asc;
  const rows = await db
    .select({ target: scheduledActionTargets, stageIndex: scheduledActionStages.index })
    .from(scheduledActionTargets)
    .innerJoin(scheduledActionStages, eq(scheduledActionStages.id, scheduledActionTargets.stageId))
    .where(and(...where))
    .orderBy(dir(scheduledActionStages.index), dir(scheduledActionTargets.id))
    .limit(limit + 1);
  // Names and addresses are the fleet's: asked for this page's rows only.
  const [names, contacts] = await Promise.all([
    instanceNames(
      db,
      rows.map((r) => r.target.instanceId),
    ),
    contactsOf(
      db,
      rows.map((r) => r.target.userId),
    ),
  ]);
  const items = rows.map((r) => ({
    ...r.target,
    stageIndex: r.stageIndex,
    instanceName: names.get(r.target.instanceId) ?? r.target.instanceId,
    userEmail: contacts.get(r.target.userId)?.email ?? '',
  }));
  return keysetPage(items, limit, cursor, (t) => t.stageIndex);
}

export type Upcoming = {
  actionId: string;
  targetId: string;
  actionType: ScheduledAction['actionType'];
  status: Target['status'];
  scheduledAt: Date;
  sourceImageTag: string | null;
  targetImageTag: string | null;
  reason: string;
  batchSize: number;
};

/** The instance's pending or running scheduled target, with its action and stage time. */
export async function upcomingForInstance(db: Db, instanceId: string): Promise<Upcoming | null> {
  const [row] = await db
    .select({
      actionId: scheduledActions.id,
      targetId: scheduledActionTargets.id,
      actionType: scheduledActions.actionType,
      status: scheduledActionTargets.status,
      scheduledAt: scheduledActionStages.scheduledAt,
      sourceImageTag: scheduledActionTargets.sourceImageTag,
      targetImageTag: scheduledActionTargets.targetImageTag,
      reason: scheduledActions.reason,
      batchSize: scheduledActions.total,
    })
    .from(scheduledActionTargets)
    .innerJoin(scheduledActionStages, eq(scheduledActionStages.id, scheduledActionTargets.stageId))
    .innerJoin(scheduledActions, eq(scheduledActions.id, scheduledActionTargets.actionId))
    .where(
      and(
        eq(scheduledActionTargets.instanceId, instanceId),
        inArray(scheduledActionTargets.status, ['pending', 'running']),
      ),
    );
  return row ?? null;
}
