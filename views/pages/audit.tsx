import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { SnapshotNote } from '../components/snapshot.tsx';
import { Time } from '../components/time.tsx';

export type AuditRowView = {
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  payload: Record<string, unknown>;
};

export type AuditQuery = {
  actor?: string | undefined;
  action?: string | undefined;
  subjectType?: string | undefined;
  subjectId?: string | undefined;
};

function subjectHref(type: string | null, id: string | null): string | null {
  if (!type || !id) return null;
  if (type === 'instance') return `/admin/instances/${id}`;
  if (type === 'scheduled_action') return `/admin/scheduler/${id}`;
  return `/admin/audit?subjectType=${encodeURIComponent(type)}&subjectId=${encodeURIComponent(id)}`;
}

/** A detail value in words: text as is, lists joined, anything nested as compact JSON. */
function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.map((v) => String(v)).join(', ') || '—';
  return JSON.stringify(value);
}

/** An entry's details as a key/value list; the exact JSON behind a toggle. */
function Details({ payload }: { payload: Record<string, unknown> }) {
  const entries = Object.entries(payload);
  if (!entries.length) return <span class="muted">—</span>;
  return (
    <div class="audit-details">
      <dl class="kv">
        {entries.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{show(v)}</dd>
          </>
        ))}
      </dl>
      <details class="raw">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(payload, null, 2)}</pre>
      </details>
    </div>
  );
}

/**
 * An audit action name (`scheduled_action.cancel_target`) that may wrap only after a dot,
 * never inside a word (its CSS rule keeps the parts whole).
 */
function ActionName({ action }: { action: string }) {
  const parts = action.split('.');
  return (
    <code class="action-name">
      {parts.map((part, i) => (i < parts.length - 1 ? [part, '.', <wbr />] : part))}
    </code>
  );
}

export function AuditTable({
  rows,
  zone,
  empty,
}: {
  rows: AuditRowView[];
  zone: string;
  empty: string;
}) {
  if (rows.length === 0)
    return (
      <div class="table-wrap">
        <EmptyState title="No audit entries">
          <p>{empty}</p>
        </EmptyState>
      </div>
    );
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Subject</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const link = subjectHref(r.subjectType, r.subjectId);
            return (
              <tr>
                <td>
                  <Time at={r.at} zone={zone} />
                </td>
                <td>
                  {r.actorLabel}
                  <div class="muted small">{r.actorType}</div>
                </td>
                <td>
                  <ActionName action={r.action} />
                </td>
                <td>
                  {r.subjectType ? (
                    <>
                      <span class="muted small">{r.subjectType}</span>{' '}
                      {link ? (
                        <a href={link}>
                          <code>{r.subjectId}</code>
                        </a>
                      ) : (
                        <code>{r.subjectId}</code>
                      )}
                    </>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
                <td>
                  <Details payload={r.payload} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function href(query: AuditQuery, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, cursor })) if (v) params.set(k, v);
  const s = params.toString();
  return `/admin/audit${s ? `?${s}` : ''}`;
}

/** The audit log: newest first, filter by actor, action and subject. */
export function AuditPage({
  rows,
  next,
  prev,
  query,
  actions,
  zone,
  readAt,
}: {
  rows: AuditRowView[];
  next: string | null;
  prev: string | null;
  query: AuditQuery;
  actions: string[];
  zone: string;
  /** When the page was read: it is a snapshot, and says so. */
  readAt: Date;
}) {
  const filtered = Boolean(query.actor || query.action || query.subjectType || query.subjectId);
  return (
    <>
      <h1>Audit log</h1>
      <form class="toolbar" method="get" action="/admin/audit">
        <label>
          Actor (email, key or id)
          <input type="search" name="actor" value={query.actor ?? ''} />
        </label>
        <label>
          Action
          <select name="action">
            <option value="">Any</option>
            {actions.map((a) => (
              <option value={a} selected={query.action === a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Subject type
          <input type="text" name="subjectType" value={query.subjectType ?? ''} size={10} />
        </label>
        <label>
          Subject id
          <input type="text" name="subjectId" value={query.subjectId ?? ''} size={36} />
        </label>
        <button type="submit" class="secondary">
          Filter
        </button>
        {filtered ? <a href="/admin/audit">Clear</a> : null}
      </form>
      <AuditTable
        rows={rows}
        zone={zone}
        empty={filtered ? 'Nothing matches these filters.' : 'Nothing has been recorded yet.'}
      />
      <Pager prev={prev} next={next} href={(cursor) => href(query, cursor)} />
      <SnapshotNote at={readAt} zone={zone} href={href(query)} what="The log" />
    </>
  );
}
