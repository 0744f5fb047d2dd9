import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Time } from '../components/time.tsx';
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
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (cursor) params.set('cursor', cursor);
  const s = params.toString();
  return `/admin/scheduler/${actionId}${s ? `?${s}` : ''}#targets`;
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
        <code>{t.sourceImageTag ?? '—'}</code> → <code>{t.targetImageTag ?? '—'}</code>
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
            hx-confirm={`Cancel ${t.instanceName} from this action? The other targets are not affected.`}
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
  zone: string;
}) {
  const url = `/admin/scheduler/${p.actionId}`;
  return (
    <div id="targets-table">
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
