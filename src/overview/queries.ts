import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import {
  imageCatalog,
  instances,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { ScheduledAction } from '../scheduler/model.ts';

/**
 * Read-only queries for the console's Overview (`/admin`). They read the fleet's and the
 * scheduler's tables through their existing columns and indexes; nothing here writes.
 */

export type Tally = { key: string; n: number };

export type FleetCounts = {
  total: number;
  byStatus: Tally[];
  byRegion: Tally[];
  /** By image tag (`key`), with the catalog's version label when the catalog knows it. */
  byVersion: (Tally & { label: string | null })[];
};

/**
 * Instances by status, by region and by image tag in one pass over the table (GROUPING
 * SETS), largest first. An instance without an image tag counts under the key `''`.
 */
export async function fleetCounts(db: Db): Promise<FleetCounts> {
  const rows = await queryRows<{
    status: string | null;
    region: string | null;
    image_tag: string | null;
    g_status: number;
    g_region: number;
    n: number;
  }>(
    db,
    sql`select ${instances.status} as status, ${instances.region} as region,
          coalesce(${instances.imageTag}, '') as image_tag,
          grouping(${instances.status})::int as g_status, grouping(${instances.region})::int as g_region,
          count(*)::int as n
        from ${instances}
        group by grouping sets ((${instances.status}), (${instances.region}), (coalesce(${instances.imageTag}, '')))`,
  );
  const labels = new Map(
    (
      await db
        .select({ tag: imageCatalog.imageTag, label: imageCatalog.versionLabel })
        .from(imageCatalog)
    ).map((r) => [r.tag, r.label]),
  );
  const byStatus: Tally[] = [];
  const byRegion: Tally[] = [];
  const byVersion: FleetCounts['byVersion'] = [];
  for (const r of rows) {
    if (r.g_status === 0) byStatus.push({ key: r.status ?? '', n: r.n });
    else if (r.g_region === 0) byRegion.push({ key: r.region ?? '', n: r.n });
    else
      byVersion.push({
        key: r.image_tag ?? '',
        n: r.n,
        label: labels.get(r.image_tag ?? '') ?? null,
      });
  }
  const largest = (a: Tally, b: Tally) => b.n - a.n || a.key.localeCompare(b.key);
  byStatus.sort(largest);
  byRegion.sort(largest);
  byVersion.sort(largest);
  return { total: byStatus.reduce((s, t) => s + t.n, 0), byStatus, byRegion, byVersion };
}

/** How many scheduled actions are running now (the navigation's indicator). */
export async function runningActionCount(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(scheduledActions)
    .where(eq(scheduledActions.status, 'running'));
  return row?.n ?? 0;
}

/**
 * Running and cancelling actions (oldest run time first), then the next scheduled ones (soonest first),
 * at most `limit` in all.
 */
export async function liveActions(db: Db, limit = 10): Promise<ScheduledAction[]> {
  const running = await db
    .select()
    .from(scheduledActions)
    // A cancelling action still applies the targets it had claimed: live work too.
    .where(inArray(scheduledActions.status, ['running', 'cancelling']))
    .orderBy(scheduledActions.runAt)
    .limit(limit);
  if (running.length >= limit) return running;
  const upcoming = await db
    .select()
    .from(scheduledActions)
    .where(eq(scheduledActions.status, 'scheduled'))
    .orderBy(scheduledActions.runAt)
    .limit(limit - running.length);
  return [...running, ...upcoming];
}

export type RecentFailures = {
  /** Instances whose last action failed (restart, version change, provisioning), newest first. */
  instances: { id: string; name: string; lastError: string | null; at: Date }[];
  /** Actions that halted at their failure gate or failed outright, newest run time first. */
  actions: ScheduledAction[];
  /** Failed targets of the most recent actions that had any. */
  targets: {
    id: string;
    actionId: string;
    instanceId: string;
    instanceName: string;
    error: string | null;
    at: Date | null;
  }[];
};

/** What went wrong lately, for the Overview's "Recent failures" (each list at most `limit`). */
export async function recentFailures(db: Db, limit = 8): Promise<RecentFailures> {
  const [failedInstances, actions, targets] = await Promise.all([
    db
      .select({
        id: instances.id,
        name: instances.name,
        lastError: instances.lastError,
        at: instances.updatedAt,
      })
      .from(instances)
      .where(eq(instances.status, 'failed'))
      .orderBy(desc(instances.updatedAt))
      .limit(limit),
    db
      .select()
      .from(scheduledActions)
      .where(inArray(scheduledActions.status, ['halted', 'failed']))
      .orderBy(desc(scheduledActions.runAt))
      .limit(limit),
    // The action counters say which actions have failures; their targets come by the
    // (action_id, status) index, so this stays cheap however many targets exist.
    db
      .select({
        id: scheduledActionTargets.id,
        actionId: scheduledActionTargets.actionId,
        instanceId: scheduledActionTargets.instanceId,
        instanceName: instances.name,
        error: scheduledActionTargets.error,
        at: scheduledActionTargets.finishedAt,
      })
      .from(scheduledActionTargets)
      .innerJoin(instances, eq(instances.id, scheduledActionTargets.instanceId))
      .where(
        and(
          eq(scheduledActionTargets.status, 'failed'),
          inArray(
            scheduledActionTargets.actionId,
            db
              .select({ id: scheduledActions.id })
              .from(scheduledActions)
              .where(gt(scheduledActions.failed, 0))
              .orderBy(desc(scheduledActions.runAt))
              .limit(limit),
          ),
        ),
      )
      .orderBy(sql`${scheduledActionTargets.finishedAt} desc nulls last`)
      .limit(limit),
  ]);
  return { instances: failedInstances, actions, targets };
}
