import type { OutboxEntry } from '../../src/deps.ts';
import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';
import { DispatchButton } from './action-notices.tsx';

export type OutboxQuery = {
  recipient?: string;
  channel?: 'email' | 'push';
  kind?: 'notice' | 'cancelled';
};

/**
 * The Outbox (embedded mode and tests): every email and push the app sent, newest first,
 * searchable by recipient, channel and kind; each opens as the user sees it.
 */
export function OutboxPage(p: {
  rows: OutboxEntry[] | null;
  query: OutboxQuery;
  next: string | null;
  zone: string;
}) {
  const q = p.query;
  const href = (cursor: string) =>
    `/admin/outbox?${new URLSearchParams({ ...(q.recipient ? { recipient: q.recipient } : {}), ...(q.channel ? { channel: q.channel } : {}), ...(q.kind ? { kind: q.kind } : {}), cursor }).toString()}`;
  return (
    <>
      <h1>Outbox</h1>
      <p class="muted">
        What notices sent by email and push, recorded here instead of a provider (embedded mode).
      </p>
      {p.rows === null ? (
        <EmptyState title="This deployment sends through Resend and Expo: there is no outbox." />
      ) : (
        <>
          <form method="get" action="/admin/outbox" class="toolbar">
            <label>
              Recipient
              <input
                type="search"
                name="recipient"
                value={q.recipient ?? ''}
                placeholder="address or push token"
              />
            </label>
            <label>
              Channel
              <select name="channel">
                <option value="">Any</option>
                <option value="email" selected={q.channel === 'email'}>
                  Email
                </option>
                <option value="push" selected={q.channel === 'push'}>
                  Push
                </option>
              </select>
            </label>
            <label>
              Kind
              <select name="kind">
                <option value="">Any</option>
                <option value="notice" selected={q.kind === 'notice'}>
                  Notice
                </option>
                <option value="cancelled" selected={q.kind === 'cancelled'}>
                  Cancellation
                </option>
              </select>
            </label>
            <button type="submit">Search</button>
            <DispatchButton back="/admin/outbox" />
          </form>
          {p.rows.length ? (
            <div class="table-wrap">
              <table id="outbox">
                <thead>
                  <tr>
                    <th>Sent</th>
                    <th>Channel</th>
                    <th>Kind</th>
                    <th>Recipient</th>
                    <th>Subject</th>
                  </tr>
                </thead>
                <tbody>
                  {p.rows.map((m) => (
                    <tr data-outbox-id={m.id}>
                      <td>
                        <Time at={m.createdAt} zone={p.zone} />
                      </td>
                      <td>{m.channel}</td>
                      <td>{m.tags.kind ?? '—'}</td>
                      <td>{m.recipient}</td>
                      <td>
                        <a href={`/admin/outbox/${m.id}`}>{m.subject}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <EmptyState title="No message matches.">
              <p class="small">Messages appear here when notices are sent.</p>
            </EmptyState>
          )}
          {p.next ? (
            <nav class="pager" aria-label="Pagination">
              <a class="button secondary" href={href(p.next)} rel="next">
                Older →
              </a>
            </nav>
          ) : null}
        </>
      )}
    </>
  );
}

/** One message as the user sees it: the email's HTML part in a sandboxed frame, and its text. */
export function OutboxMessagePage(p: { message: OutboxEntry; zone: string }) {
  const m = p.message;
  return (
    <>
      <p>
        <a href="/admin/outbox">← Outbox</a>
      </p>
      <h1>{m.subject}</h1>
      <dl class="facts">
        <dt>To</dt>
        <dd>{m.recipient}</dd>
        <dt>Channel</dt>
        <dd>{m.channel}</dd>
        <dt>Kind</dt>
        <dd>{m.tags.kind ?? '—'}</dd>
        <dt>Sent</dt>
        <dd>
          <Time at={m.createdAt} zone={p.zone} />
        </dd>
        {m.tags.actionId ? (
          <>
            <dt>Action</dt>
            <dd>
              <a href={`/admin/scheduler/${m.tags.actionId}`}>
                <code>{m.tags.actionId}</code>
              </a>
            </dd>
          </>
        ) : null}
      </dl>
      {m.html ? (
        <section class="panel">
          <h2>As the user sees it</h2>
          {/* Same origin (no scripts run in it) so app.js can size it to the email's height. */}
          <iframe
            class="outbox-html"
            title="The email as sent"
            sandbox="allow-same-origin"
            data-fit-content
            srcdoc={m.html}
          />
        </section>
      ) : null}
      <section class="panel">
        <h2>{m.channel === 'push' ? 'Push text' : 'Text part'}</h2>
        <pre class="notice-text">{m.text}</pre>
      </section>
    </>
  );
}
