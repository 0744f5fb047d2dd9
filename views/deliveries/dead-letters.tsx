import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import type { DeadLetterRow } from './types.ts';

/** The DLQ with a retry and a (confirmed) delete per message. */
export function DeadLetterTable({ rows, zone }: { rows: DeadLetterRow[]; zone: string }) {
  if (rows.length === 0)
    return (
      <EmptyState title="The dead-letter queue is empty">
        <p>Doorbells that failed every retry, or were refused as permanent (489), land here.</p>
      </EmptyState>
    );
  return (
    <Table headers={['Failed', 'Path', 'Last response', 'Body', <th />]}>
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
              {...confirmAttrs({
                title: 'Delete this dead letter?',
                detail: `Message ${d.messageId} to ${new URL(d.url).pathname} is removed for good; its work is not retried from here.`,
                ok: 'Delete 1 dead letter',
              })}
            >
              <button type="submit" class="danger">
                Delete
              </button>
            </form>
          </td>
        </tr>
      ))}
    </Table>
  );
}
