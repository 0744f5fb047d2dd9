import { CancelRunForm } from '../cli-runs/card.tsx';
import {
  type CliRunView,
  Initiator,
  isLiveRun,
  Outcome,
  OutputBlock,
  promptLine,
} from '../cli-runs/parts.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import { type AuditRowView, AuditTable } from './audit.tsx';

export type CliRunsQuery = {
  status?: string | undefined;
  initiatedBy?: string | undefined;
  q?: string | undefined;
  sort: string;
  order: 'asc' | 'desc';
  /** Rows per page when not the default (50). */
  limit?: string | undefined;
};

export type CliRunsPageProps = {
  rows: CliRunView[];
  total: number;
  next: string | null;
  prev: string | null;
  query: CliRunsQuery;
  statuses: readonly string[];
  readAt: Date;
  zone: string;
};

function href(query: CliRunsQuery, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...extra })) if (v) params.set(k, v);
  const s = params.toString();
  return `/admin/cli-runs${s ? `?${s}` : ''}`;
}

function SortHeader({ label, sort, query }: { label: string; sort: string; query: CliRunsQuery }) {
  const active = query.sort === sort;
  const order = active && query.order === 'asc' ? 'desc' : 'asc';
  const url = href(query, { sort, order, cursor: undefined });
  return (
    <th aria-sort={active ? (query.order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <a href={url} hx-get={url} hx-target="#cli-runs-table" hx-push-url="true">
        {label} {active ? (query.order === 'asc' ? '▲' : '▼') : ''}
      </a>
    </th>
  );
}

/** The table and pager: swapped alone when the sort or the page changes (htmx). */
export function CliRunsTable(p: CliRunsPageProps) {
  const filtered = Boolean(p.query.q || p.query.status || p.query.initiatedBy);
  return (
    <div id="cli-runs-table">
      {p.rows.length ? (
        <>
          <Table
            headers={[
              <SortHeader label="Started" sort="created" query={p.query} />,
              <SortHeader label="Instance" sort="instance" query={p.query} />,
              'User',
              'Prompt',
              <SortHeader label="Status" sort="status" query={p.query} />,
              'Initiated by',
              'Ended',
            ]}
          >
            {p.rows.map((r) => (
              <tr>
                <td>
                  <a href={`/admin/cli-runs/${r.id}`}>
                    <Time at={r.createdAt} zone={p.zone} />
                  </a>
                </td>
                <td>
                  <a href={`/admin/instances/${r.instanceId}`}>{r.instanceName}</a>
                </td>
                <td class="small">{r.userEmail}</td>
                <td>
                  <code>{promptLine(r.prompt, 60)}</code>
                </td>
                <td>
                  <Outcome run={r} />
                </td>
                <td>
                  <Initiator run={r} />
                </td>
                <td>
                  <Time at={r.endedAt} zone={p.zone} />
                </td>
              </tr>
            ))}
          </Table>
          <Pager
            prev={p.prev}
            next={p.next}
            href={(cursor) => href(p.query, { cursor })}
            target="#cli-runs-table"
            swap="outerHTML"
            summary={`${p.total} ${p.total === 1 ? 'run' : 'runs'}`}
          />
        </>
      ) : (
        <EmptyState title={filtered ? 'No run matches these filters.' : 'No CLI run yet.'}>
          {filtered ? (
            <p>
              <a href="/admin/cli-runs">Clear the filters</a>
            </p>
          ) : (
            <p class="muted">Start one from an instance's page.</p>
          )}
        </EmptyState>
      )}
    </div>
  );
}

/** CLI runs: filters (status, initiated by), search, sortable columns, keyset pages. */
export function CliRunsPage(p: CliRunsPageProps) {
  return (
    <>
      <h1>CLI runs</h1>
      <p class="muted small">
        Read <Time at={p.readAt} zone={p.zone} /> · <a href={href(p.query)}>Reload</a>
      </p>
      <form class="toolbar" method="get" action="/admin/cli-runs">
        <label>
          Search
          <input
            type="search"
            name="q"
            value={p.query.q ?? ''}
            placeholder="user email, prompt, instance id or name"
          />
        </label>
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {p.statuses.map((s) => (
              <option value={s} selected={p.query.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Initiated by
          <select name="initiatedBy">
            {[
              ['', 'all'],
              ['admin', 'admin'],
              ['user', 'user'],
            ].map(([value, label]) => (
              <option value={value} selected={(p.query.initiatedBy ?? '') === value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <input type="hidden" name="sort" value={p.query.sort} />
        <input type="hidden" name="order" value={p.query.order} />
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <CliRunsTable {...p} />
    </>
  );
}

export type CliRunPageProps = {
  run: CliRunView;
  audit: AuditRowView[];
  zone: string;
};

/** One run: its facts, the full kept output (live while it runs), its timeline and audit. */
export function CliRunPage({ run, audit, zone }: CliRunPageProps) {
  const live = isLiveRun(run);
  const steps: { at: Date | null; what: string }[] = [
    { at: run.createdAt, what: `Requested by ${run.initiatedByLabel}` },
    { at: run.startedAt, what: 'Started on the instance' },
    {
      at: run.endedAt,
      what: `Ended ${run.status}${run.exitCode !== null ? ` (exit ${run.exitCode})` : ''}`,
    },
  ];
  return (
    <>
      <p class="small">
        <a href="/admin/cli-runs">← CLI runs</a> ·{' '}
        <a href={`/admin/instances/${run.instanceId}`}>{run.instanceName}</a>
      </p>
      <h1>
        CLI run <Outcome run={run} />
      </h1>
      <div class="grid2">
        <section class="panel">
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{run.id}</code>
            </dd>
            <dt>Instance</dt>
            <dd>
              <a href={`/admin/instances/${run.instanceId}`}>{run.instanceName}</a>
            </dd>
            <dt>User</dt>
            <dd>{run.userEmail}</dd>
            <dt>Initiated by</dt>
            <dd>
              <Initiator run={run} />
            </dd>
            <dt>Prompt</dt>
            <dd>
              <pre class="cli-output">{run.prompt}</pre>
            </dd>
          </dl>
          {run.lastError ? (
            <div
              class={`flash ${run.status === 'failed' ? 'flash-error' : 'flash-warn'}`}
              role="alert"
            >
              {run.lastError}
            </div>
          ) : null}
          {live ? <CancelRunForm run={run} from="run" /> : null}
        </section>
        <section class="panel">
          <h2>Timeline</h2>
          <ol class="timeline">
            {steps
              .filter((s) => s.at)
              .map((s) => (
                <li class={s.what.includes('failed') ? 'failed' : ''}>
                  <Time at={s.at} zone={zone} /> · <strong>{s.what}</strong>
                </li>
              ))}
          </ol>
        </section>
      </div>
      <section>
        <h2>Output</h2>
        <OutputBlock run={run} stream={live ? `/admin/cli-runs/${run.id}/events` : null} />
      </section>
      <section>
        <h2>Audit entries</h2>
        <AuditTable rows={audit} zone={zone} empty="No admin has acted on this run." />
      </section>
    </>
  );
}
