import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';

export type DoorbellRow = {
  messageId: string;
  path: string;
  dueAt: Date | null;
  deliveredAt: Date | null;
  attempts: number;
  state: string;
  lastStatus: number | null;
  lastError: string | null;
};

export type DeadLetterRow = {
  dlqId: string;
  messageId: string;
  url: string;
  createdAt: Date;
  responseStatus: number | null;
  responseBody: string | null;
  body: string | null;
};

export type ScheduleRow = {
  scheduleId: string;
  cron: string;
  destination: string;
  isPaused: boolean;
  lastScheduleTime: Date | null;
  nextScheduleTime: Date | null;
};

export type SweepRow = {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  found: number;
  rerung: number;
  leasesReturned: number;
  details: Record<
    string,
    { found: number; rerung: number; leasesReturned: number; error?: string }
  >;
};

export type DeliveriesProps = {
  doorbells: DoorbellRow[];
  deadLetters: DeadLetterRow[];
  schedules: ScheduleRow[];
  sweeps: SweepRow[];
  errors: { doorbells?: string; deadLetters?: string; schedules?: string };
  filter: { path?: string | undefined; state?: string | undefined };
  emulated: boolean;
  zone: string;
  notice?: string | null;
};

const STATE_TONE: Record<string, string> = {
  DELIVERED: 'delivered',
  FAILED: 'failed',
  ERROR: 'failed',
  RETRY: 'restarting',
  CREATED: 'provisioning',
  CANCELLED: 'stopped',
};

function Unreadable({ error }: { error: string }) {
  return (
    <div class="flash flash-error" role="alert">
      Could not read this from QStash: {error}
    </div>
  );
}

function DeadLetterTable({ rows, zone }: { rows: DeadLetterRow[]; zone: string }) {
  if (rows.length === 0)
    return (
      <EmptyState title="The dead-letter queue is empty">
        <p>Doorbells that failed every retry, or were refused as permanent (489), land here.</p>
      </EmptyState>
    );
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Failed</th>
            <th>Path</th>
            <th>Last response</th>
            <th>Body</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr id={`dlq-${d.dlqId}`}>
              <td>
                <Time at={d.createdAt} zone={zone} />
                <div class="muted small">
                  <code>{d.messageId}</code>
                </div>
              </td>
              <td>
                <code>{new URL(d.url).pathname}</code>
              </td>
              <td>
                {d.responseStatus ?? '—'}{' '}
                <span class="muted small">{d.responseBody?.slice(0, 120)}</span>
              </td>
              <td>
                <code class="small">{d.body?.slice(0, 160) ?? '—'}</code>
              </td>
              <td>
                <form
                  class="inline"
                  method="post"
                  action={`/admin/deliveries/dlq/${encodeURIComponent(d.dlqId)}/retry`}
                >
                  <button type="submit" class="secondary">
                    Retry
                  </button>
                </form>{' '}
                <form
                  class="inline"
                  method="post"
                  action={`/admin/deliveries/dlq/${encodeURIComponent(d.dlqId)}/delete`}
                  hx-confirm="Delete this dead letter? Its work will not be retried from here."
                >
                  <button type="submit" class="danger">
                    Delete
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Deliveries: recent doorbells, the DLQ (retry, delete), schedules and sweep runs. */
export function DeliveriesPage(p: DeliveriesProps) {
  return (
    <>
      <h1>Deliveries</h1>
      <p class="muted">
        Doorbells are delayed, signed callbacks from{' '}
        {p.emulated ? 'the local QStash emulator' : 'QStash'}; the sweep rings again anything whose
        doorbell was lost.
      </p>
      {p.notice ? <div class="flash flash-ok">{p.notice}</div> : null}
      <section class="panel">
        <h2>Recent doorbells</h2>
        <form class="toolbar" method="get" action="/admin/deliveries">
          <label>
            Path contains
            <input
              type="search"
              name="path"
              value={p.filter.path ?? ''}
              placeholder="/api/callbacks/…"
            />
          </label>
          <label>
            State
            <select name="state">
              <option value="">Any</option>
              {['CREATED', 'RETRY', 'ERROR', 'DELIVERED', 'FAILED', 'CANCELLED'].map((s) => (
                <option value={s} selected={p.filter.state === s}>
                  {s.toLowerCase()}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
        {p.errors.doorbells ? <Unreadable error={p.errors.doorbells} /> : null}
        {p.doorbells.length === 0 ? (
          <EmptyState title="No doorbells yet">
            <p>Scheduled work rings doorbells; they appear here as QStash delivers them.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Path</th>
                  <th>Due</th>
                  <th>Delivered</th>
                  <th>Attempts</th>
                  <th>State</th>
                  <th>Last status</th>
                  <th>Message</th>
                </tr>
              </thead>
              <tbody>
                {p.doorbells.map((d) => (
                  <tr>
                    <td>
                      <code>{d.path}</code>
                    </td>
                    <td>
                      <Time at={d.dueAt} zone={p.zone} />
                    </td>
                    <td>
                      <Time at={d.deliveredAt} zone={p.zone} />
                    </td>
                    <td>{d.attempts}</td>
                    <td>
                      <StatusBadge status={STATE_TONE[d.state] ?? 'stopped'} />{' '}
                      <span class="small">{d.state.toLowerCase()}</span>
                    </td>
                    <td>
                      {d.lastStatus ?? '—'}
                      {d.lastError ? <div class="muted small">{d.lastError}</div> : null}
                    </td>
                    <td>
                      <code class="small">{d.messageId}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="muted small">The newest 100 doorbells matching the filters.</p>
      </section>
      <section class="panel">
        <h2>Dead-letter queue</h2>
        {p.errors.deadLetters ? (
          <Unreadable error={p.errors.deadLetters} />
        ) : (
          <DeadLetterTable rows={p.deadLetters} zone={p.zone} />
        )}
      </section>
      <section class="panel">
        <h2>Schedules</h2>
        {p.errors.schedules ? <Unreadable error={p.errors.schedules} /> : null}
        {p.schedules.length === 0 ? (
          <EmptyState title="No schedules">
            <p>The app creates its every-minute sweep schedule when it starts.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Schedule</th>
                  <th>Cron</th>
                  <th>Destination</th>
                  <th>Last</th>
                  <th>Next</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {p.schedules.map((s) => (
                  <tr>
                    <td>
                      <code>{s.scheduleId}</code>
                    </td>
                    <td>
                      <code>{s.cron}</code>
                    </td>
                    <td>
                      <code>{new URL(s.destination).pathname}</code>
                    </td>
                    <td>
                      <Time at={s.lastScheduleTime} zone={p.zone} />
                    </td>
                    <td>
                      <Time at={s.nextScheduleTime} zone={p.zone} />
                    </td>
                    <td>
                      {s.isPaused ? (
                        <StatusBadge status="stopped" />
                      ) : (
                        <StatusBadge status="active" />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="panel">
        <h2>Last sweep runs</h2>
        {p.sweeps.length === 0 ? (
          <EmptyState title="No sweep has run yet">
            <p>The sweep runs every minute once the app's schedule exists.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Started</th>
                  <th>Found</th>
                  <th>Re-rung</th>
                  <th>Leases returned</th>
                  <th>Per sweeper</th>
                </tr>
              </thead>
              <tbody>
                {p.sweeps.map((r) => (
                  <tr>
                    <td>
                      <Time at={r.startedAt} zone={p.zone} />
                    </td>
                    <td>{r.found}</td>
                    <td>{r.rerung}</td>
                    <td>{r.leasesReturned}</td>
                    <td class="small">
                      {Object.entries(r.details).map(([name, d]) => (
                        <div>
                          <code>{name}</code>: {d.found}/{d.rerung}/{d.leasesReturned}
                          {d.error ? <span class="badge badge-danger">{d.error}</span> : null}
                        </div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
