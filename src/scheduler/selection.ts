import { and, eq, inArray, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  type InstanceStatus,
  imageCatalog,
  instances,
  scheduledActionTargets,
  versionPins,
} from '../../db/schema/index.ts';
import { BUSY_STATUSES } from '../fleet/operations/model.ts';
import { UnprocessableError } from '../lib/errors.ts';
import { MAX_TARGETS, type SkipReason } from './model.ts';

export type SelectionFilter = {
  status?: string[];
  region?: string;
  /** Current image tag. */
  imageTag?: string;
  /** Instances whose image was published before this catalog image's (older versions). */
  versionBelow?: string;
  hasPin?: boolean;
};

export type Selection = { ids: string[] } | { filter: SelectionFilter };

export type Candidate = {
  instanceId: string;
  userId: string;
  imageTag: string | null;
  status: string;
  pinnedImageTag: string | null;
  /** Another action's pending or running target on this instance. */
  activeTargetActionId: string | null;
};

export type Exclusions = Record<SkipReason, string[]>;

/** The instances a selection names, with what decides whether each can be a target. */
export async function loadCandidates(
  db: Db,
  selection: Selection,
): Promise<{ candidates: Candidate[]; notFound: string[] }> {
  const where: (SQL | undefined)[] = [];
  let requested: string[] = [];
  if ('ids' in selection) {
    requested = [...new Set(selection.ids)];
    where.push(inArray(instances.id, requested));
  } else {
    const f = selection.filter;
    if (f.status?.length) where.push(inArray(instances.status, f.status as InstanceStatus[]));
    if (f.region) where.push(eq(instances.region, f.region));
    if (f.imageTag) where.push(eq(instances.imageTag, f.imageTag));
    if (f.hasPin !== undefined)
      where.push(f.hasPin ? isNotNull(versionPins.instanceId) : isNull(versionPins.instanceId));
    if (f.versionBelow) {
      const [below] = await db
        .select()
        .from(imageCatalog)
        .where(eq(imageCatalog.imageTag, f.versionBelow));
      if (!below)
        throw new UnprocessableError(
          `versionBelow: ${f.versionBelow} is not in the catalog.`,
          {},
          'unknown-image',
        );
      where.push(
        sql`${instances.imageTag} in (select image_tag from image_catalog where published_at < ${below.publishedAt.toISOString()}::timestamptz)`,
      );
    }
  }
  const active = db
    .select({
      instanceId: scheduledActionTargets.instanceId,
      actionId: scheduledActionTargets.actionId,
    })
    .from(scheduledActionTargets)
    .where(sql`${scheduledActionTargets.status} in ('pending', 'running')`)
    .as('active');
  const rows = await db
    .select({
      instanceId: instances.id,
      userId: instances.userId,
      imageTag: instances.imageTag,
      status: instances.status,
      pinnedImageTag: versionPins.imageTag,
      activeTargetActionId: active.actionId,
    })
    .from(instances)
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .leftJoin(active, eq(active.instanceId, instances.id))
    .where(and(...where))
    .limit(MAX_TARGETS + 1);
  if (rows.length > MAX_TARGETS)
    throw new UnprocessableError(
      `The selection has more than ${MAX_TARGETS.toLocaleString('en')} instances; narrow it.`,
      {},
      'selection-too-large',
    );
  const found = new Set(rows.map((r) => r.instanceId));
  return { candidates: rows, notFound: requested.filter((id) => !found.has(id)) };
}

/** Instance statuses in which an action is refused until they end (retried at claim time). */
const BUSY: readonly string[] = BUSY_STATUSES;

/**
 * Sorts candidates into eligible and excluded-with-reason. Destroyed instances are always
 * excluded; instances with another active target are `already_scheduled`; stopped ones are
 * `stopped` (a restart of a stopped machine means nothing; a version change takes them only
 * with `includeStopped`, and they stay stopped on the new version); a version change skips
 * pinned instances (unless pins are overridden) and those already on the target. `busy`
 * lists eligible instances that are busy right now (provisioning, restarting, recovering,
 * destroying): they are tried again at claim time, for up to 10 minutes.
 */
export function classify(
  candidates: Candidate[],
  input: {
    actionType: 'restart' | 'version_change';
    targetImageTag: string | null;
    overridePins: boolean;
    includeStopped?: boolean;
  },
): {
  eligible: Candidate[];
  exclusions: Omit<Exclusions, 'not_found' | 'halted'>;
  busy: string[];
} {
  const exclusions = {
    destroyed: [] as string[],
    stopped: [] as string[],
    pinned: [] as string[],
    already_on_target: [] as string[],
    already_scheduled: [] as string[],
  };
  const eligible: Candidate[] = [];
  const busy: string[] = [];
  const takesStopped = input.actionType === 'version_change' && input.includeStopped === true;
  for (const c of candidates) {
    if (c.status === 'destroyed' || c.status === 'destroying')
      exclusions.destroyed.push(c.instanceId);
    else if (c.activeTargetActionId) exclusions.already_scheduled.push(c.instanceId);
    else if (c.status === 'stopped' && !takesStopped) exclusions.stopped.push(c.instanceId);
    else if (input.actionType === 'version_change' && c.imageTag === input.targetImageTag)
      exclusions.already_on_target.push(c.instanceId);
    else if (
      input.actionType === 'version_change' &&
      c.pinnedImageTag &&
      c.pinnedImageTag !== input.targetImageTag &&
      !input.overridePins
    )
      exclusions.pinned.push(c.instanceId);
    else {
      eligible.push(c);
      if (BUSY.includes(c.status)) busy.push(c.instanceId);
    }
  }
  return { eligible, exclusions, busy };
}
