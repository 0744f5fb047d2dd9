import type { ActionNotices } from '../../src/notices/queries.ts';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../plural.ts';

const CHANNEL_LABEL = { email: 'Email', push: 'Push', webapp: 'In-app banner' } as const;
const STATUSES = ['pending', 'sending', 'sent', 'failed', 'skipped'] as const;
/** Column headings: `skipped` is a push to a user with no device, which is not a failure. */
const STATUS_LABEL: Record<(typeof STATUSES)[number], string> = {
  pending: 'pending',
  sending: 'sending',
  sent: 'sent',
  failed: 'failed',
  skipped: 'no device',
};

/** "Send due notices now": one dispatch, audited; confirmed in the console's dialog. */
export function DispatchButton({ back }: { back: string }) {
  return (
    <form
      method="post"
      action="/admin/notices/dispatch"
      class="inline"
      {...confirmAttrs({
        title: 'Send due notices now?',
        detail:
          'Every notice whose time has come is sent now (they are also sent on their own at their due time). Recorded in the audit log.',
        ok: 'Send due notices',
        tone: 'primary',
      })}
    >
      <input type="hidden" name="back" value={back} />
      <button type="submit" class="secondary">
        Send due notices now
      </button>
    </form>
  );
}

/**
 * An action's notices: settings, counts by channel and status (a push to a user with no
 * device counts under "no device", not "failed"), and the failed ones with their errors,
 * each naming its instance by `instanceNames` (id → name; the id where a name is missing).
 */
export function ActionNoticesPanel(p: {
  actionId: string;
  notices: ActionNotices;
  instanceNames: ReadonlyMap<string, string>;
  zone: string;
}) {
  const { settings, counts, failed } = p.notices;
  if (!settings?.notify) return <p class="muted">Users are not notified for this action.</p>;
  const cell = (channel: string, kind: string, status: string) => {
    const c = counts.find((x) => x.channel === channel && x.kind === kind && x.status === status);
    return c ? `${c.notices.toLocaleString('en')} (${c.messages.toLocaleString('en')} msg)` : '0';
  };
  const kinds = [...new Set(counts.map((c) => c.kind))];
  return (
    <div id="action-notices">
      <p class="small">
        {count(settings.leadMinutes, 'minute')} ahead on{' '}
        {settings.channels.map((c) => CHANNEL_LABEL[c]).join(', ') || 'no channel'}
        {settings.subject ? <> · subject “{settings.subject}”</> : null}
      </p>
      <div class="table-wrap">
        <table class="notice-counts">
          <thead>
            <tr>
              <th>Channel</th>
              <th>Kind</th>
              {STATUSES.map((s) => (
                <th>{STATUS_LABEL[s]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {settings.channels.flatMap((channel) =>
              (kinds.length ? kinds : ['notice']).map((kind) => (
                <tr data-channel={channel} data-kind={kind}>
                  <td>{CHANNEL_LABEL[channel]}</td>
                  <td>{kind}</td>
                  {STATUSES.map((s) => (
                    <td data-status={s}>{cell(channel, kind, s)}</td>
                  ))}
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      <p class="muted small">
        Per instance (messages: one per user, naming their instances). No device: a push to a user
        with no push token registered; nothing to send it to, so not a failure.
      </p>
      <h3>Failed</h3>
      {failed.length ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Instance</th>
                <th>Channel</th>
                <th>Kind</th>
                <th>Due</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {failed.map((f) => (
                <tr>
                  <td>
                    <a href={`/admin/instances/${f.instanceId}`}>
                      {p.instanceNames.get(f.instanceId) ?? <code>{f.instanceId}</code>}
                    </a>
                  </td>
                  <td>{CHANNEL_LABEL[f.channel]}</td>
                  <td>{f.kind}</td>
                  <td>
                    <Time at={f.dueAt} zone={p.zone} />
                  </td>
                  <td>{f.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState title="No failed notices." />
      )}
      <DispatchButton back={`/admin/scheduler/${p.actionId}`} />
    </div>
  );
}
