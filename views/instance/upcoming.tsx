import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { Time } from '../components/time.tsx';
import { VersionChange } from '../components/version.tsx';
import { ACTION_LABEL, instancesWord } from '../scheduler/words.ts';

export type UpcomingView = {
  actionId: string;
  targetId: string;
  actionType: string;
  status: string;
  scheduledAt: Date;
  sourceImageTag: string | null;
  targetImageTag: string | null;
  reason: string;
  batchSize: number;
};

/**
 * The instance's next scheduled action (its stage time, versions) with cancel for this
 * instance and, when it is part of a batch, for the whole batch; both confirmed first.
 */
export function UpcomingAction({
  instanceId,
  upcoming: u,
  zone,
}: {
  instanceId: string;
  upcoming: UpcomingView | null;
  zone: string;
}) {
  if (!u)
    return (
      <div id="upcoming" class="muted">
        None
      </div>
    );
  const what = (ACTION_LABEL[u.actionType] ?? u.actionType).toLowerCase();
  return (
    <div id="upcoming">
      <a href={`/admin/scheduler/${u.actionId}`}>{ACTION_LABEL[u.actionType]}</a>{' '}
      <StatusBadge status={u.status} /> at <Time at={u.scheduledAt} zone={zone} />
      <div class="small">
        <VersionChange from={u.sourceImageTag} to={u.targetImageTag} />
        <span class="muted"> · {u.reason}</span>
      </div>
      {u.status === 'pending' ? (
        <div class="toolbar actions-bar">
          <form
            hx-boost="true"
            method="post"
            action={`/admin/instances/${instanceId}/scheduled/${u.targetId}/cancel`}
            {...confirmAttrs({
              title: `Cancel the scheduled ${what} for this instance?`,
              detail: 'The rest of its batch is not affected.',
              ok: 'Cancel for 1 instance',
            })}
          >
            <button type="submit" class="secondary">
              Cancel for this instance
            </button>
          </form>
          {u.batchSize > 1 ? (
            <form
              hx-boost="true"
              method="post"
              action={`/admin/instances/${instanceId}/scheduled-actions/${u.actionId}/cancel`}
              {...confirmAttrs({
                title: 'Cancel the whole batch?',
                detail: `The scheduled ${what} of all ${instancesWord(u.batchSize)} is cancelled; targets being applied finish.`,
                ok: `Cancel for ${instancesWord(u.batchSize)}`,
              })}
            >
              <button type="submit" class="danger">
                Cancel whole batch ({instancesWord(u.batchSize)})
              </button>
            </form>
          ) : null}
        </div>
      ) : (
        <div class="muted small">Being applied now.</div>
      )}
    </div>
  );
}
