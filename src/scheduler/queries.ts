import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  instances,
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
  users,
} from '../../db/schema/index.ts';
import { type Cursor, decodeCursor, encodeCursor, type Page } from '../lib/cursor.ts';
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
 * Status sort follows the lifecycle an operator scans for: live work first, then halted
 * (needs a decision), then waiting, then finished. Ties break on run time, then id.
 */
const STATUS_RANK = sql<number>`case ${scheduledActions.status}
  when 'running' then 0 when 'halted' then 1 when 'scheduled' then 2
  when 'failed' then 3 when 'completed' then 4 else 5 end`;

const STATUS_RANK_OF: Record<ScheduledAction['status'], number> = {
  running: 0,
  halted: 1,
  scheduled: 2,
  failed: 3,
  completed: 4,
  cancelled: 5,
};

const invalidCursor = () =>
  new AppError(400, 'invalid-cursor', 'Invalid cursor', 'The cursor does not match this sort.');

/**
 * Actions, newest run time first by default; keyset-paginated on (run_at or created_at, id),
 * or on (status rank, run_at, id) for `sort: 'status'`. Throws 400 on a cursor made for
 * another sort.
 */
export async function listActions(db: Db, query: ActionListQuery): Promise<Page<ScheduledAction>> {
  const limit = Math.min(Math.max(query.limit ?? 25, 1), 200);
  const sort = query.sort ?? 'run_at';
  const order = query.order ?? 'desc';
  const cursor: Cursor | null = query.cursor ? decodeCursor(query.cursor) : null;
  if (cursor && typeof cursor.key !== 'string') throw invalidCursor();
  const backwards = cursor?.dir === 'before';
  const ascending = (order === 'asc') !== backwards;
  const keys: SQL[] =
    sort === 'status'
      ? [STATUS_RANK, sql`${scheduledActions.runAt}`]
      : [sql`${sort === 'created' ? scheduledActions.createdAt : scheduledActions.runAt}`];
  const where: (SQL | undefined)[] = [];
  if (query.status?.length) where.push(inArray(scheduledActions.status, query.status));
  if (query.actionType) where.push(eq(scheduledActions.actionType, query.actionType));
  if (cursor) where.push(after(sort, cursor, ascending));
  const rows = await db
    .select()
    .from(scheduledActions)
    .where(and(...where))
    .orderBy(...[...keys, sql`${scheduledActions.id}`].map((k) => (ascending ? asc(k) : desc(k))))
    .limit(limit + 1);
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  if (backwards) items.reverse();
  const key = (a: ScheduledAction) =>
    sort === 'status'
      ? `${STATUS_RANK_OF[a.status]} ${a.runAt.toISOString()}`
      : (sort === 'created' ? a.createdAt : a.runAt).toISOString();
  const first = items[0];
  const last = items.at(-1);
  const hasNext = backwards ? true : more;
  const hasPrev = backwards ? more : cursor !== null;
  return {
    items,
    next: hasNext && last ? encodeCursor({ key: key(last), id: last.id, dir: 'after' }) : null,
    prev: hasPrev && first ? encodeCursor({ key: key(first), id: first.id, dir: 'before' }) : null,
  };
}

/** The keyset condition: rows strictly past the cursor's (key…, id) in the read direction. */
function after(sort: NonNullable<ActionListQuery['sort']>, cursor: Cursor, ascending: boolean) {
  const id = sql`${cursor.id}::uuid`;
  const cmp = ascending ? sql`>` : sql`<`;
  if (sort !== 'status') {
    const column = sort === 'created' ? scheduledActions.createdAt : scheduledActions.runAt;
    return sql`(${column}, ${scheduledActions.id}) ${cmp} (${cursor.key}::timestamptz, ${id})`;
  }
  const match = /^([0-5]) (\S+)$/.exec(String(cursor.key));
  if (!match || Number.isNaN(Date.parse(match[2] ?? ''))) throw invalidCursor();
  return sql`(${STATUS_RANK}, ${scheduledActions.runAt}, ${scheduledActions.id}) ${cmp} (${Number(match[1])}::int, ${match[2]}::timestamptz, ${id})`;
}

export type ActionDetail = ScheduledAction & { stages: Stage[] };

export async function getAction(db: Db, id: string): Promise<ActionDetail> {
  const [action] = await db.select().from(scheduledActions).where(eq(scheduledActions.id, id));
  if (!action) throw new NotFoundError('Scheduled action', id);
  const stages = await db
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, id))
    .orderBy(asc(scheduledActionStages.index));
  return { ...action, stages };
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
    .select({
      target: scheduledActionTargets,
      stageIndex: scheduledActionStages.index,
      instanceName: instances.name,
      userEmail: users.email,
    })
    .from(scheduledActionTargets)
    .innerJoin(scheduledActionStages, eq(scheduledActionStages.id, scheduledActionTargets.stageId))
    .innerJoin(instances, eq(instances.id, scheduledActionTargets.instanceId))
    .innerJoin(users, eq(users.id, scheduledActionTargets.userId))
    .where(and(...where))
    .orderBy(dir(scheduledActionStages.index), dir(scheduledActionTargets.id))
    .limit(limit + 1);
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map((r) => ({
    ...r.target,
    stageIndex: r.stageIndex,
    instanceName: r.instanceName,
    userEmail: r.userEmail,
  }));
  if (backwards) items.reverse();
  const first = items[0];
  const last = items.at(-1);
  return {
    items,
    next:
      (backwards || more) && last
        ? encodeCursor({ key: last.stageIndex, id: last.id, dir: 'after' })
        : null,
    prev:
      (backwards ? more : cursor !== null) && first
        ? encodeCursor({ key: first.stageIndex, id: first.id, dir: 'before' })
        : null,
  };
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
