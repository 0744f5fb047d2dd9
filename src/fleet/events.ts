import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instanceEvents } from '../../db/schema/index.ts';
import type { Actor } from '../deps.ts';

export type InstanceEvent = typeof instanceEvents.$inferSelect;

/** Appends to an instance's timeline; call it inside the transaction that makes the change. */
export async function recordInstanceEvent(
  db: Db,
  input: {
    instanceId: string;
    type: string;
    actor?: Actor | null;
    payload?: Record<string, unknown>;
    at?: Date;
  },
): Promise<void> {
  await db.insert(instanceEvents).values({
    instanceId: input.instanceId,
    type: input.type,
    actorLabel: input.actor?.label ?? 'system',
    payload: input.payload ?? {},
    ...(input.at ? { at: input.at } : {}),
  });
}

/** Newest first; `before` pages on (at, id). */
export async function listInstanceEvents(
  db: Db,
  instanceId: string,
  options: { limit?: number; before?: { at: Date; id: string } } = {},
): Promise<InstanceEvent[]> {
  const before = options.before;
  return db
    .select()
    .from(instanceEvents)
    .where(
      and(
        eq(instanceEvents.instanceId, instanceId),
        before
          ? or(
              lt(instanceEvents.at, before.at),
              and(eq(instanceEvents.at, before.at), sql`${instanceEvents.id} < ${before.id}`),
            )
          : undefined,
      ),
    )
    .orderBy(desc(instanceEvents.at), desc(instanceEvents.id))
    .limit(Math.min(options.limit ?? 50, 200));
}
