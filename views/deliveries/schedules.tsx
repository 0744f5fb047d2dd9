import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import type { ScheduleRow, SweepRow } from './types.ts';

export function ScheduleTable({ rows, zone }: { rows: ScheduleRow[]; zone: string }) {
  if (rows.length === 0)
    return (
      <EmptyState title="No schedules">
        <p>The app creates its every-minute sweep schedule when it starts.</p>
      </EmptyState>
    );
  return (
    <Table headers={['Schedule', 'Cron', 'Destination', 'Last', 'Next', 'State']}>
      {rows.map((s) => (
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
            <Time at={s.lastScheduleTime} zone={zone} />
          </td>
          <td>
            <Time at={s.nextScheduleTime} zone={zone} />
          </td>
          <td>
            <StatusBadge
              status={s.isPaused ? 'paused' : 'active'}
              tone={s.isPaused ? 'muted' : 'ok'}
            />
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Each sweep run with its per-sweeper found / re-rung / leases-returned counts. */
export function SweepTable({ rows, zone }: { rows: SweepRow[]; zone: string }) {
  if (rows.length === 0)
    return (
      <EmptyState title="No sweep has run yet">
        <p>The sweep runs every minute once the app's schedule exists.</p>
      </EmptyState>
    );
  return (
    <Table headers={['Started', 'Found', 'Re-rung', 'Leases returned', 'Per sweeper']}>
      {rows.map((r) => (
        <tr>
          <td>
            <Time at={r.startedAt} zone={zone} />
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
    </Table>
  );
}
