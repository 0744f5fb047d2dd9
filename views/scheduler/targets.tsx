import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Time } from '../components/time.tsx';
import { VersionChange } from '../components/version.tsx';
import { SKIP_LABEL } from './words.ts';

export type TargetRowView = {
  id: string;
  stageIndex: number;
  instanceId: string;
  instanceName: string;
  userEmail: string;
  sourceImageTag: string | null;
  targetImageTag: string | null;
  status: string;
  skipReason: string | null;
  error: string | null;
  appliedAt: Date | null;
};

export function targetsHref(actionId: string, status: string | undefined, cursor?: string) {
  return `${targetsPath(actionId, status, cursor)}#targets`;
}

function targetsPath(actionId: string, status: string | undefined, cursor?: string) {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (cursor) params.set('cursor', cursor);
  const s = params.toString();
  return `/admin/scheduler/${actionId}${s ? `?${s}` : ''}`;
}

function TargetRow({ t, actionId, zone }: { t: TargetRowView; actionId: string; zone: string }) {
  return (
    <tr data-target-id={t.id} data-instance={t.instanceName}>
      <td>{t.stageIndex + 1}</td>
      <td>
        <a href={`/admin/instances/${t.instanceId}`}>{t.instanceName}</a>
        <div class="muted small">{t.userEmail}</div>
      </td>
      <td class="small">
        <VersionChange from={t.sourceImageTag} to={t.targetImageTag} />
      </td>
      <td>
        <StatusBadge status={t.status} />
      </td>
      <td class="small">
        {t.skipReason ? (SKIP_LABEL[t.skipReason] ?? t.skipReason) : null}
        {t.error ? <span class="error-text">{t.error}</span> : null}
        {t.appliedAt ? <Time at={t.appliedAt} zone={zone} /> : null}
      </td>
      <td>
        {t.status === 'pending' ? (
          <form
            hx-boost="true"
            method="post"
            action={`/admin/scheduler/${actionId}/targets/${t.id}/cancel`}
            {...confirmAttrs({
              title: `Leave ${t.instanceName} out of this action?`,
              detail: 'Its pending target is cancelled; the other targets are not affected.',
              ok: 'Cancel 1 target',
            })}
          >
            <button type="submit" class="danger">
              Cancel
            </button>
          </form>
        ) : null}
      </td>
    </tr>
  );
}

/** An action's targets, filterable by status, keyset-paginated; swapped alone by htmx. */
export function TargetsTable(p: {
  actionId: string;
  rows: TargetRowView[];
  next: string | null;
  prev: string | null;
  status: string | undefined;
  counts: Partial<Record<string, number>>;
  /** The statuses to filter by, in the order to offer them. */
  statuses: readonly string[];
  /** While the action runs, the table re-fetches itself (same filter and page) every 2 s. */
  live: boolean;
  /** The page's cursor, so the poll re-reads the page being looked at. */
  cursor?: string | undefined;
  zone: string;
}) {
  const url = `/admin/scheduler/${p.actionId}`;
  return (
    <div id="targets-table" data-live={p.live ? 'true' : 'false'}>
      {/* Polled with the table: what "Cancel action" would cancel, for its dialog. */}
      <data id="pending-targets" value={String(p.counts.pending ?? 0)} hidden />
      {p.live ? (
        <div
          hidden
          data-poll
          hx-get={targetsPath(p.actionId, p.status, p.cursor)}
          hx-trigger="every 2s"
          hx-target="#targets-table"
          hx-swap="outerHTML"
        />
      ) : null}
      <form
        class="toolbar"
        method="get"
        action={url}
        hx-get={url}
        hx-target="#targets-table"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="change, submit"
      >
        <label>
          Status
          <select name="status">
            <option value="">
              Any ({Object.values(p.counts).reduce<number>((s, n) => s + (n ?? 0), 0)})
            </option>
            {p.statuses.map((s) => (
              <option value={s} selected={p.status === s}>
                {s} ({p.counts[s] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <div class="table-wrap">
        {p.rows.length === 0 ? (
          <EmptyState title={p.status ? `No ${p.status} targets` : 'No targets'} />
        ) : (
          <table>
            <thead>
              <tr>
                <th>Stage</th>
                <th>Instance · owner</th>
                <th>Version</th>
                <th>Status</th>
                <th>Reason · error · applied</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {p.rows.map((t) => (
                <TargetRow t={t} actionId={p.actionId} zone={p.zone} />
              ))}
            </tbody>
          </table>
        )}
      </div>
      <Pager
        prev={p.prev}
        next={p.next}
        href={(cursor) => targetsHref(p.actionId, p.status, cursor)}
        target="#targets-table"
        swap="outerHTML"
      />
    </div>
  );
}
