import { type BadgeTone, StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import type { DoorbellRow } from './types.ts';

/**
 * QStash's message states, named as QStash names them (upstash docs, `qstash/howto/debug-logs`:
 * a message is CREATED, becomes ACTIVE on delivery, then DELIVERED, or ERROR and RETRY until
 * it FAILED into the DLQ; CANCEL_REQUESTED, then CANCELLED), each with its badge tone.
 */
export const QSTASH_STATE_TONE: Record<string, BadgeTone> = {
  CREATED: 'info',
  ACTIVE: 'info',
  RETRY: 'warn',
  ERROR: 'danger',
  DELIVERED: 'ok',
  FAILED: 'danger',
  CANCEL_REQUESTED: 'muted',
  CANCELLED: 'muted',
};

export type DoorbellFilter = { path?: string | undefined; state?: string | undefined };

export function DoorbellFilters({ filter }: { filter: DoorbellFilter }) {
  return (
    <form class="toolbar" method="get" action="/admin/deliveries">
      <label>
        Path contains
        <input type="search" name="path" value={filter.path ?? ''} placeholder="/api/callbacks/…" />
      </label>
      <label>
        State
        <select name="state">
          <option value="">Any</option>
          {Object.keys(QSTASH_STATE_TONE).map((s) => (
            <option value={s} selected={filter.state === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
  );
}

export function DoorbellTable({ rows, zone }: { rows: DoorbellRow[]; zone: string }) {
  if (rows.length === 0)
    return (
      <EmptyState title="No doorbells yet">
        <p>Scheduled work rings doorbells; they appear here as QStash delivers them.</p>
      </EmptyState>
    );
  return (
    <Table headers={['Path', 'Due', 'Delivered', 'Attempts', 'State', 'Last status', 'Message']}>
      {rows.map((d) => (
        <tr>
          <td>
            <code>{d.path}</code>
          </td>
          <td>
            <Time at={d.dueAt} zone={zone} />
          </td>
          <td>
            <Time at={d.deliveredAt} zone={zone} />
          </td>
          <td>{d.attempts}</td>
          <td>
            <StatusBadge status={d.state} tone={QSTASH_STATE_TONE[d.state] ?? 'muted'} />
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
    </Table>
  );
}
