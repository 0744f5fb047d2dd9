import { StatusBadge } from '../components/badge.tsx';
import { Progress } from '../components/progress.tsx';
import { Time } from '../components/time.tsx';
import { formatDrift, formatUtc } from '../format.ts';
import { type ActionRowView, Counters } from './actions.tsx';
import { doneOf } from './words.ts';

export type StageView = {
  id: string;
  index: number;
  scheduledAt: Date;
  status: string;
  gateResult: string | null;
  startedAt: Date | null;
  completedAt: Date | null;
  total: number;
  applied: number;
  skipped: number;
  failed: number;
  cancelled: number;
};

export type ActionDetailView = ActionRowView & {
  overridePins: boolean;
  maxInFlight: number;
  includeStopped: boolean;
  pausedAt: Date | null;
  /** Targets being applied now. */
  running: number;
  stagePercents: number[];
  stageIntervalSeconds: number;
  failureThresholdPercent: number | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  stages: StageView[];
};

/**
 * While scheduled, running, paused or cancelling (its started targets still finish), the
 * progress re-fetches itself (htmx every 2 s).
 */
export const isLive = (status: string) =>
  status === 'scheduled' || status === 'running' || status === 'paused' || status === 'cancelling';

function StagesTable({ stages, zone }: { stages: StageView[]; zone: string }) {
  return (
    <div class="table-wrap">
      <table id="stages">
        <thead>
          <tr>
            <th>Stage</th>
            <th>Scheduled</th>
            <th>Status</th>
            <th>Started · finished</th>
            <th>Targets</th>
            <th>Gate</th>
          </tr>
        </thead>
        <tbody>
          {stages.map((s) => (
            <tr data-stage={s.index}>
              <td>{s.index + 1}</td>
              <td>
                <Time at={s.scheduledAt} zone={zone} />
              </td>
              <td>
                <StatusBadge status={s.status} />
              </td>
              <td class="small">
                <Time at={s.startedAt} zone={zone} /> · <Time at={s.completedAt} zone={zone} />
              </td>
              <td>
                <Progress done={doneOf(s)} total={s.total} label={`Stage ${s.index + 1}`} />
                <div>
                  <Counters c={s} />
                </div>
              </td>
              <td class="small">{s.gateResult ?? <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * An action's status, counters, progress bar, timing and stages. Polled while the action
 * is live; the poll that sees it finished reloads the page (`HX-Refresh`).
 */
export function ProgressPanel({ a, zone }: { a: ActionDetailView; zone: string }) {
  const live = isLive(a.status);
  const drift = formatDrift(a.runAt, a.startedAt);
  return (
    <div
      id="progress"
      data-status={a.status}
      {...(live
        ? {
            'data-poll': '',
            'hx-get': `/admin/scheduler/${a.id}/progress`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
    >
      <p>
        <StatusBadge status={a.status} />
        {a.status === 'completed' && a.failed > 0 ? (
          <span class="badge badge-danger">with {a.failed} failed</span>
        ) : null}{' '}
        <Progress done={doneOf(a)} total={a.total} label="Finished targets" /> <Counters c={a} />
      </p>
      <p class="small" data-in-flight={a.running}>
        Being applied now: {a.running} of at most {a.maxInFlight} at once
        {a.status === 'paused' ? ' · paused: nothing new starts until it is resumed' : ''}
        {a.status === 'cancelling'
          ? ' · cancelling: nothing new starts; it is cancelled once these finish'
          : ''}
      </p>
      <dl class="facts">
        <dt>Run time</dt>
        <dd>
          <Time at={a.runAt} zone={zone} /> <span class="muted small">{formatUtc(a.runAt)}</span>
        </dd>
        <dt>Started</dt>
        <dd>
          <Time at={a.startedAt} zone={zone} />
          {drift ? <span class="small"> (drift {drift})</span> : null}
        </dd>
        {a.completedAt ? (
          <>
            <dt>Finished</dt>
            <dd>
              <Time at={a.completedAt} zone={zone} />
            </dd>
          </>
        ) : null}
        {a.pausedAt ? (
          <>
            <dt>Paused</dt>
            <dd>
              <Time at={a.pausedAt} zone={zone} />
            </dd>
          </>
        ) : null}
        {a.cancelledAt ? (
          <>
            <dt>Cancelled</dt>
            <dd>
              <Time at={a.cancelledAt} zone={zone} />
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Stages</h3>
      <StagesTable stages={a.stages} zone={zone} />
    </div>
  );
}
