import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';

export type TimelineEvent = {
  id: string;
  type: string;
  actorLabel: string;
  payload: Record<string, unknown>;
  at: Date;
};

const WORDS: Record<string, string> = {
  provision_requested: 'Provisioning requested',
  provision_succeeded: 'Provisioned',
  provision_failed: 'Provisioning failed',
  restart_requested: 'Restart requested',
  restart_succeeded: 'Restarted',
  restart_failed: 'Restart failed',
  version_change_requested: 'Version change requested',
  version_change_succeeded: 'Version changed',
  version_change_failed: 'Version change failed',
  stop_requested: 'Stop requested',
  stop_succeeded: 'Stopped',
  stop_failed: 'Stop failed',
  start_requested: 'Start requested',
  start_succeeded: 'Started',
  start_failed: 'Start failed',
  pin_set: 'Pinned',
  pin_removed: 'Unpinned',
  imported: 'Imported from Fly',
  seeded: 'Created by the demo seed',
  recovery_started: 'Recovery started',
  recovery_step: 'Recovery step',
  recovery_waiting: 'Recovery waiting',
  recovery_succeeded: 'Recovered',
  recovery_failed: 'Recovery failed',
  recovery_retried: 'Recovery retried',
  retained_volume_deleted: 'Retained volume deleted',
  retained_volume_refused: 'Retained volume not deleted',
  reconcile_divergence: 'Divergence seen by reconcile',
  cli_run_started: 'CLI run started',
  cli_run_completed: 'CLI run completed',
  cli_run_failed: 'CLI run failed',
  cli_run_cancelled: 'CLI run cancelled',
  deprovision_requested: 'Deprovision requested',
  deprovision_step: 'Deprovision step',
  deprovisioned: 'Destroyed',
  deprovision_volume_deleted: 'Kept volume deleted',
};

function summary(payload: Record<string, unknown>): string {
  const parts: string[] = [];
  if (
    typeof payload.from === 'string' &&
    typeof payload.to === 'string' &&
    payload.from !== payload.to
  )
    parts.push(`${payload.from} → ${payload.to}`);
  if (typeof payload.imageTag === 'string') parts.push(payload.imageTag);
  if (typeof payload.version === 'string') parts.push(`version ${payload.version}`);
  if (typeof payload.error === 'string') parts.push(payload.error);
  if (typeof payload.reason === 'string') parts.push(payload.reason);
  // Recovery events: what was seen, the step entered and how it went.
  if (typeof payload.cause === 'string') parts.push(payload.cause.replace(/_/g, ' '));
  if (typeof payload.kind === 'string') parts.push(payload.kind.replace(/_/g, ' '));
  if (typeof payload.waitingFor === 'string')
    parts.push(
      `waiting for ${payload.waitingFor === 'host_unreachable' ? 'the host' : 'capacity'}`,
    );
  if (typeof payload.step === 'string') parts.push(`step ${payload.step}`);
  if (typeof payload.note === 'string') parts.push(payload.note);
  if (typeof payload.inPlace === 'boolean') parts.push(payload.inPlace ? 'in place' : 'relocated');
  if (typeof payload.durationMs === 'number')
    parts.push(`${Math.round(payload.durationMs / 100) / 10} s`);
  return parts.join(' · ');
}

/** The instance's lifecycle, newest first. */
export function Timeline({ events, zone }: { events: TimelineEvent[]; zone: string }) {
  if (!events.length)
    return (
      <EmptyState title="Nothing has happened yet">
        <p>Provisioning, actions and pins appear here.</p>
      </EmptyState>
    );
  return (
    <ol class="timeline">
      {events.map((e) => (
        <li class={e.type.endsWith('_failed') ? 'failed' : ''}>
          <Time at={e.at} zone={zone} /> · <strong>{WORDS[e.type] ?? e.type}</strong>{' '}
          <span class="muted small">by {e.actorLabel}</span>
          {summary(e.payload) ? <div class="small">{summary(e.payload)}</div> : null}
          {e.type.startsWith('cli_run_') && typeof e.payload.runId === 'string' ? (
            <div class="small">
              <a href={`/admin/cli-runs/${e.payload.runId}`}>The run →</a>
            </div>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
