import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Time } from '../components/time.tsx';
import { AgentEditor, type EditorValues, type PreviewView } from './editor.tsx';

export type SessionRowView = {
  id: string;
  trigger: string;
  scheduledFor: Date;
  status: string;
  reason: string | null;
  lastError: string | null;
  startedAt: Date | null;
  endedAt: Date | null;
};

const REASONS: Record<string, string> = {
  overlap: 'skipped: a session was still live (overlap policy)',
  instance_not_running: 'skipped: the instance was not running',
  agent_disabled: 'skipped: the agent was paused',
  cancelled: 'cancelled by a later fire (overlap policy cancel other)',
  machine_lost: 'ended with its machine (stopped, failed or destroyed)',
};

/** An agent's page: state, Run now / pause / resume / delete, the editor and the session history. */
export function AgentPage(p: {
  agent: {
    id: string;
    name: string;
    instanceId: string;
    instanceName: string;
    enabled: boolean;
    disabledReason: string | null;
    nextFireAt: Date | null;
    lastFiredAt: Date | null;
    lastOutcome: string | null;
  };
  values: EditorValues;
  presets: readonly { label: string; expression: string }[];
  zones: string[];
  preview: PreviewView;
  zone: string;
  sessions: SessionRowView[];
  next: string | null;
  prev: string | null;
}) {
  const a = p.agent;
  const base = `/admin/agents/${a.id}`;
  return (
    <>
      <p class="small">
        <a href="/admin/agents">← Agents</a>
      </p>
      <div class="page-head">
        <h1>{a.name}</h1>
        <div class="actions">
          <form method="post" action={`${base}/run`}>
            <button type="submit">Run now</button>
          </form>
          <form method="post" action={`${base}/${a.enabled ? 'pause' : 'resume'}`}>
            <button type="submit" class="secondary">
              {a.enabled ? 'Pause' : 'Resume'}
            </button>
          </form>
          <form
            method="post"
            action={`${base}/delete`}
            {...confirmAttrs({
              title: `Delete the agent ${a.name}?`,
              detail:
                'Its schedule stops and its session history is deleted. Sessions already running on the instance are not stopped.',
              ok: 'Delete agent',
            })}
          >
            <button type="submit" class="danger">
              Delete
            </button>
          </form>
        </div>
      </div>
      <dl class="kv panel">
        <dt>Instance</dt>
        <dd>
          <a href={`/admin/instances/${a.instanceId}`}>{a.instanceName}</a>
        </dd>
        <dt>State</dt>
        <dd>
          <StatusBadge status={a.enabled ? 'active' : a.disabledReason ? 'disabled' : 'paused'} />{' '}
          {a.disabledReason}
        </dd>
        <dt>Next fire</dt>
        <dd data-next-fire>
          <Time at={a.nextFireAt} zone={p.zone} />
        </dd>
        <dt>Last fired</dt>
        <dd>
          <Time at={a.lastFiredAt} zone={p.zone} />{' '}
          {a.lastOutcome ? <span class="muted">({a.lastOutcome})</span> : null}
        </dd>
      </dl>
      <AgentEditor
        action={base}
        values={p.values}
        presets={p.presets}
        zones={p.zones}
        preview={p.preview}
        viewerZone={p.zone}
      />
      <section class="panel" id="sessions">
        <h2>Sessions</h2>
        {p.sessions.length === 0 ? (
          <EmptyState title="No sessions yet">
            <p>Sessions appear here at each fire time, or when you use Run now.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table data-sessions>
              <thead>
                <tr>
                  <th>Trigger</th>
                  <th>For</th>
                  <th>Status</th>
                  <th>Started</th>
                  <th>Ended</th>
                </tr>
              </thead>
              <tbody>
                {p.sessions.map((s) => (
                  <tr>
                    <td>
                      <span class={`badge badge-${s.trigger === 'cron' ? 'info' : 'muted'}`}>
                        {s.trigger}
                      </span>
                    </td>
                    <td>
                      <Time at={s.scheduledFor} zone={p.zone} />
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                      {s.reason ? (
                        <div class="muted small">{REASONS[s.reason] ?? s.reason}</div>
                      ) : null}
                      {s.lastError ? <div class="muted small">{s.lastError}</div> : null}
                    </td>
                    <td>
                      <Time at={s.startedAt} zone={p.zone} />
                    </td>
                    <td>
                      <Time at={s.endedAt} zone={p.zone} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              prev={p.prev}
              next={p.next}
              href={(cursor) => `${base}?cursor=${encodeURIComponent(cursor)}#sessions`}
            />
          </div>
        )}
      </section>
    </>
  );
}
