import { and, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionTargets } from '../../db/schema/index.ts';
import { BUSY_STATUSES } from '../fleet/operations/model.ts';
import { type SelectedInstance, type Selection, selectInstances } from '../fleet/selection.ts';
import { UnprocessableError } from '../lib/errors.ts';
import { MAX_TARGETS, type SkipReason } from './model.ts';

export type { Selection, SelectionFilter } from '../fleet/selection.ts';

export type Candidate = SelectedInstance & {
  /** Another action's pending or running target on this instance. */
  activeTargetActionId: string | null;
};

export type Exclusions = Record<SkipReason, string[]>;

/** Ids per statement when reading active targets (well under PostgreSQL's 65,535 parameters). */
const IDS_PER_READ = 5_000;

/**
 * The instances a selection names (asked of the fleet: {@link selectInstances}), each with
 * the action of its active target, if any: what decides whether it can be a target.
 *
 * Errors: 422 `selection-too-large` past {@link MAX_TARGETS}; 422 `unknown-image` from the fleet.
 */
export async function loadCandidates(
  db: Db,
  selection: Selection,
): Promise<{ candidates: Candidate[]; notFound: string[] }> {
  const selected = await selectInstances(db, selection, MAX_TARGETS);
  if (selected.more)
    throw new UnprocessableError(
      `The selection has more than ${MAX_TARGETS.toLocaleString('en')} instances; narrow it.`,
      {},
      'selection-too-large',
    );
  const active = new Map<string, string>();
  const ids = selected.instances.map((i) => i.instanceId);
  for (let at = 0; at < ids.length; at += IDS_PER_READ) {
    const rows = await db
      .select({
        instanceId: scheduledActionTargets.instanceId,
        actionId: scheduledActionTargets.actionId,
      })
      .from(scheduledActionTargets)
      .where(
        and(
          inArray(scheduledActionTargets.status, ['pending', 'running']),
          inArray(scheduledActionTargets.instanceId, ids.slice(at, at + IDS_PER_READ)),
        ),
      );
    for (const r of rows) active.set(r.instanceId, r.actionId);
  }
  return {
    candidates: selected.instances.map((i) => ({
      ...i,
      activeTargetActionId: active.get(i.instanceId) ?? null,
    })),
    notFound: selected.notFound,
  };
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
