import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Progress } from '../components/progress.tsx';
import { Time } from '../components/time.tsx';
import { Version } from '../components/version.tsx';
import { formatDrift } from '../format.ts';
import { ACTION_LABEL, doneOf } from './words.ts';

export type ActionRowView = {
  id: string;
  actionType: string;
  targetImageTag: string | null;
  status: string;
  runAt: Date;
  startedAt: Date | null;
  createdAt: Date;
  createdBy: string;
  reason: string;
  total: number;
  applied: number;
  skipped: number;
  failed: number;
  cancelled: number;
};

export type ActionsQuery = {
  status?: string | undefined;
  sort: 'run_at' | 'created' | 'status';
  order: 'asc' | 'desc';
  cursor?: string | undefined;
};

export function actionsHref(q: ActionsQuery, extra: Record<string, string | undefined> = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, ...extra })) if (v) params.set(k, v);
  return `/admin/scheduler?${params.toString()}`;
}

function SortHeader(p: { label: string; sort: ActionsQuery['sort']; q: ActionsQuery }) {
  const active = p.q.sort === p.sort;
  // Status reads best live-first (ascending rank); times newest-first.
  const first = p.sort === 'status' ? 'asc' : 'desc';
  const order = active ? (p.q.order === 'asc' ? 'desc' : 'asc') : first;
  // A new sort starts from its first page: the old cursor belongs to the old sort.
  const url = actionsHref({ ...p.q, cursor: undefined }, { sort: p.sort, order });
  return (
    <th aria-sort={active ? (p.q.order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <a href={url} hx-get={url} hx-target="#actions-table" hx-swap="outerHTML" hx-push-url="true">
        {p.label} {active ? (p.q.order === 'asc' ? '▲' : '▼') : ''}
      </a>
    </th>
  );
}

/** Counters as words: "2 applied · 0 skipped · 1 failed · 0 cancelled of 3". */
export function Counters({
  c,
}: {
  c: { total: number; applied: number; skipped: number; failed: number; cancelled: number };
}) {
  return (
    <span class="small counters">
      {c.applied} applied · {c.skipped} skipped · {c.failed} failed · {c.cancelled} cancelled of{' '}
      {c.total}
    </span>
  );
}

/** The actions table with its pager; swapped alone when sort, filter or page change. */
export function ActionsTable(p: {
  rows: ActionRowView[];
  next: string | null;
  prev: string | null;
  query: ActionsQuery;
  zone: string;
}) {
  const q = p.query;
  return (
    <div id="actions-table">
      <div class="table-wrap">
        {p.rows.length === 0 ? (
          <EmptyState title={q.status ? `No ${q.status} actions` : 'Nothing scheduled yet'}>
            <p>Actions scheduled above, from the instances list or through the API appear here.</p>
          </EmptyState>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Action</th>
                <SortHeader label="Status" sort="status" q={q} />
                <th>Progress</th>
                <SortHeader label="Run time" sort="run_at" q={q} />
                <th title="Actual start minus scheduled start">Drift</th>
                <SortHeader label="Created" sort="created" q={q} />
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map((a) => (
                <tr data-action-id={a.id}>
                  <td>
                    <a href={`/admin/scheduler/${a.id}`}>{ACTION_LABEL[a.actionType]}</a>
                    {a.targetImageTag && a.actionType === 'version_change' ? (
                      <div class="small">
                        → <Version tag={a.targetImageTag} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>
                    <Progress done={doneOf(a)} total={a.total} label="Finished targets" />
                    <div>
                      <Counters c={a} />
                    </div>
                  </td>
                  <td>
                    <Time at={a.runAt} zone={p.zone} />
                  </td>
                  <td>{formatDrift(a.runAt, a.startedAt) ?? <span class="muted">—</span>}</td>
                  <td>
                    <Time at={a.createdAt} zone={p.zone} />
                    <div class="muted small">by {a.createdBy}</div>
                  </td>
                  <td>{a.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <Pager
        prev={p.prev}
        next={p.next}
        href={(cursor) => actionsHref(q, { cursor })}
        target="#actions-table"
        swap="outerHTML"
      />
    </div>
  );
}

/** The status filter above the actions table (htmx swaps the table). */
/** The status filter above the actions table; `statuses` in the order to offer them. */
export function ActionsFilter({
  query,
  statuses,
}: {
  query: ActionsQuery;
  statuses: readonly string[];
}) {
  return (
    <form
      class="toolbar"
      method="get"
      action="/admin/scheduler"
      hx-get="/admin/scheduler"
      hx-target="#actions-table"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="change, submit"
    >
      <label>
        Status
        <select name="status">
          <option value="">Any</option>
          {statuses.map((s) => (
            <option value={s} selected={query.status === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <input type="hidden" name="sort" value={query.sort} />
      <input type="hidden" name="order" value={query.order} />
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
  );
}
