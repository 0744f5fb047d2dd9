import { and, asc, desc, eq, ilike, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  agentSessions,
  agents,
  type SessionStatus,
  type SessionTrigger,
} from '../../db/schema/index.ts';
import { type Cursor, decodeCursor, keysetPage, type Page } from '../lib/cursor.ts';
import { AppError } from '../lib/errors.ts';
import { scheduleError } from './agents.ts';
import { nextFireTimes, parseSchedule } from './cron.ts';
import type { Agent, AgentSession } from './model.ts';
import { type ZonedInstant, zonedInstant } from './zoned.ts';

export const AGENT_SORTS = ['next_fire', 'name'] as const;
export type AgentSort = (typeof AGENT_SORTS)[number];

export type AgentListQuery = {
  /** Substring of the name, case-insensitive. */
  q?: string;
  enabled?: boolean;
  timeZone?: string;
  instanceId?: string;
  sort?: AgentSort;
  order?: 'asc' | 'desc';
  cursor?: string;
  limit?: number;
};

const invalidCursor = () =>
  new AppError(
    400,
    'invalid-cursor',
    'Invalid cursor',
    'The pagination cursor is not valid; start from the first page.',
  );

// Agents with no next fire time sort after every time (ascending).
const NEXT_KEY = sql`coalesce(${agents.nextFireAt}, 'infinity'::timestamptz)`;

/**
 * Agents, keyset-paginated: by next fire time (none last, then id) or by name. A cursor names
 * the sort and order it was made for; another is a 400 `invalid-cursor`.
 */
export async function listAgents(db: Db, query: AgentListQuery): Promise<Page<Agent>> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const sort = query.sort ?? 'next_fire';
  const order = query.order ?? 'asc';
  const scope = `${sort}.${order}`;
  const cursor: Cursor | null = query.cursor ? decodeCursor(query.cursor, 'text') : null;
  const backwards = cursor?.dir === 'before';
  const ascending = (order === 'asc') !== backwards;
  const key = sort === 'name' ? sql`${agents.name}` : NEXT_KEY;
  const where: (SQL | undefined)[] = [];
  if (query.q) where.push(ilike(agents.name, `%${query.q.replace(/[\\%_]/g, '\\$&')}%`));
  if (query.enabled !== undefined) where.push(eq(agents.enabled, query.enabled));
  if (query.timeZone) where.push(eq(agents.timeZone, query.timeZone));
  if (query.instanceId) where.push(eq(agents.instanceId, query.instanceId));
  if (cursor) {
    const text = String(cursor.key);
    if (!text.startsWith(`${scope}|`)) throw invalidCursor();
    const value = text.slice(scope.length + 1);
    const typed = sort === 'name' ? sql`${value}` : sql`${value}::timestamptz`;
    if (sort !== 'name' && value !== 'infinity' && Number.isNaN(Date.parse(value)))
      throw invalidCursor();
    where.push(
      sql`(${key}, ${agents.id}) ${ascending ? sql`>` : sql`<`} (${typed}, ${cursor.id}::uuid)`,
    );
  }
  const rows = await db
    .select()
    .from(agents)
    .where(and(...where))
    .orderBy(ascending ? asc(key) : desc(key), ascending ? asc(agents.id) : desc(agents.id))
    .limit(limit + 1);
  return keysetPage(rows, limit, cursor, (a) =>
    sort === 'name'
      ? `${scope}|${a.name}`
      : `${scope}|${a.nextFireAt?.toISOString() ?? 'infinity'}`,
  );
}

/** The zones agents use, for the console's filter. */
export async function agentZones(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ z: agents.timeZone })
    .from(agents)
    .orderBy(agents.timeZone);
  return rows.map((r) => r.z);
}

export type SessionListQuery = {
  trigger?: SessionTrigger[];
  status?: SessionStatus[];
  cursor?: string;
  limit?: number;
};

/** An agent's sessions, newest first, keyset-paginated on (created_at, id). */
export async function listSessions(
  db: Db,
  agentId: string,
  query: SessionListQuery,
): Promise<Page<AgentSession>> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const cursor: Cursor | null = query.cursor ? decodeCursor(query.cursor, 'date') : null;
  const backwards = cursor?.dir === 'before';
  const where: (SQL | undefined)[] = [eq(agentSessions.agentId, agentId)];
  if (query.trigger?.length) where.push(inArray(agentSessions.trigger, query.trigger));
  if (query.status?.length) where.push(inArray(agentSessions.status, query.status));
  if (cursor)
    where.push(
      sql`(${agentSessions.createdAt}, ${agentSessions.id}) ${backwards ? sql`>` : sql`<`} (${String(cursor.key)}::timestamptz, ${cursor.id}::uuid)`,
    );
  const rows = await db
    .select()
    .from(agentSessions)
    .where(and(...where))
    .orderBy(
      backwards ? asc(agentSessions.createdAt) : desc(agentSessions.createdAt),
      backwards ? asc(agentSessions.id) : desc(agentSessions.id),
    )
    .limit(limit + 1);
  return keysetPage(rows, limit, cursor, (s) => s.createdAt.toISOString());
}

/**
 * The next `count` (1–100) fire times of an expression in a zone after `from`, each in UTC,
 * in the zone's wall-clock time and with the zone's UTC offset then. Throws 422
 * `invalid-schedule` naming the field when they do not parse.
 */
export function previewFires(input: {
  cronExpression: string;
  timeZone: string;
  from: Date;
  count: number;
}): { timeZone: string; items: ZonedInstant[] } {
  const parsed = parseSchedule(input.cronExpression, input.timeZone);
  if (!parsed.ok) throw scheduleError(parsed.problem);
  const zone = parsed.schedule.timeZone;
  return {
    timeZone: zone,
    items: nextFireTimes(parsed.schedule, input.from, input.count).map((d) =>
      zonedInstant(d, zone),
    ),
  };
}
