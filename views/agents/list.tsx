import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { SnapshotNote } from '../components/snapshot.tsx';
import { Time } from '../components/time.tsx';

export type AgentRowView = {
  id: string;
  name: string;
  instanceId: string;
  instanceName: string;
  cronExpression: string | null;
  description: string | null;
  timeZone: string;
  enabled: boolean;
  nextFireAt: Date | null;
  lastFiredAt: Date | null;
  lastOutcome: string | null;
  disabledReason: string | null;
};

export type AgentsQuery = {
  q?: string | undefined;
  enabled?: string | undefined;
  timeZone?: string | undefined;
  instance?: string | undefined;
  order: 'asc' | 'desc';
};

export type AgentsProps = {
  rows: AgentRowView[];
  next: string | null;
  prev: string | null;
  query: AgentsQuery;
  zones: string[];
  instances: { id: string; name: string }[];
  zone: string;
  readAt: Date;
};

function href(query: AgentsQuery, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...extra })) if (v) params.set(k, v);
  const s = params.toString();
  return `/admin/agents${s ? `?${s}` : ''}`;
}

/** The Agents page: search, filters (enabled, zone, instance), sorted by next fire time, keyset pages. */
export function AgentsPage(p: AgentsProps) {
  const filtered = Boolean(p.query.q || p.query.enabled || p.query.timeZone || p.query.instance);
  const flip = p.query.order === 'asc' ? 'desc' : 'asc';
  return (
    <>
      <div class="page-head">
        <h1>Agents</h1>
        <a class="button" href="/admin/agents/new">
          New agent
        </a>
      </div>
      <form class="toolbar" method="get" action="/admin/agents">
        <label>
          Search
          <input type="search" name="q" value={p.query.q ?? ''} placeholder="Agent name" />
        </label>
        <label>
          State
          <select name="enabled">
            <option value="">Any</option>
            <option value="true" selected={p.query.enabled === 'true'}>
              Enabled
            </option>
            <option value="false" selected={p.query.enabled === 'false'}>
              Paused or disabled
            </option>
          </select>
        </label>
        <label>
          Zone
          <select name="timeZone">
            <option value="">Any</option>
            {p.zones.map((z) => (
              <option value={z} selected={p.query.timeZone === z}>
                {z}
              </option>
            ))}
          </select>
        </label>
        <label>
          Instance
          <select name="instance">
            <option value="">Any</option>
            {p.instances.map((i) => (
              <option value={i.id} selected={p.query.instance === i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <input type="hidden" name="order" value={p.query.order} />
        <button type="submit" class="secondary">
          Filter
        </button>
        {filtered ? <a href="/admin/agents">Clear</a> : null}
      </form>
      <SnapshotNote at={p.readAt} zone={p.zone} href={href(p.query)} what="This list" />
      {p.rows.length === 0 ? (
        <div class="table-wrap">
          <EmptyState title={filtered ? 'No agents match' : 'No agents yet'}>
            <p>
              {filtered ? (
                <a href="/admin/agents">Clear the filters</a>
              ) : (
                <a href="/admin/agents/new">Create the first agent</a>
              )}
            </p>
          </EmptyState>
        </div>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Agent</th>
                <th>Instance</th>
                <th>Schedule</th>
                <th>State</th>
                <th aria-sort={p.query.order === 'asc' ? 'ascending' : 'descending'}>
                  <a href={href(p.query, { order: flip })}>
                    Next fire {p.query.order === 'asc' ? '↑' : '↓'}
                  </a>
                </th>
                <th>Last fired</th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map((a) => (
                <tr>
                  <td>
                    <a href={`/admin/agents/${a.id}`}>{a.name}</a>
                  </td>
                  <td>
                    <a href={`/admin/instances/${a.instanceId}`}>{a.instanceName}</a>
                  </td>
                  <td>
                    {a.cronExpression ? (
                      <>
                        <code>{a.cronExpression}</code>
                        <div class="muted small">
                          {a.description} · {a.timeZone}
                        </div>
                      </>
                    ) : (
                      <span class="muted">No schedule</span>
                    )}
                  </td>
                  <td>
                    <StatusBadge
                      status={a.enabled ? 'active' : a.disabledReason ? 'disabled' : 'paused'}
                    />
                    {a.disabledReason ? <div class="muted small">{a.disabledReason}</div> : null}
                  </td>
                  <td>
                    <Time at={a.nextFireAt} zone={p.zone} />
                  </td>
                  <td>
                    <Time at={a.lastFiredAt} zone={p.zone} />
                    {a.lastOutcome ? <div class="muted small">{a.lastOutcome}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager prev={p.prev} next={p.next} href={(cursor) => href(p.query, { cursor })} />
        </div>
      )}
    </>
  );
}
