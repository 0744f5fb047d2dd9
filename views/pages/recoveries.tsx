import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import { formatDuration } from '../format.ts';
import {
  CAUSE_LABELS,
  type RecoveryView,
  STEP_LABELS,
  type StepSpanView,
  StepTable,
} from '../recovery/steps.tsx';
import { errorOrNote, WAIT_LABELS, WaitingNote } from '../recovery/waiting.tsx';

export type ReconcileRunView = {
  id: string;
  startedAt: Date;
  durationMs: number;
  compared: number;
  diverged: number;
  recoveriesStarted: number;
  recoveriesRetried: number;
  recorded: number;
  volumesDeleted: number;
  trigger: string;
  errors: string[];
};

export type RecoveriesQuery = { status?: string; cause?: string; q?: string };

export type RecoveriesPageProps = {
  active: RecoveryView[];
  recent: RecoveryView[];
  next: string | null;
  prev: string | null;
  query: RecoveriesQuery;
  retained: RecoveryView[];
  runs: ReconcileRunView[];
  settings: {
    enabled: boolean;
    relocation: boolean;
    retainDays: number;
    fallbackRegions: string[];
    waitMaxMs: number;
    retryMaxMs: number;
  };
  readAt: Date;
  zone: string;
};

const instanceLink = (r: RecoveryView) => (
  <a href={`/admin/instances/${r.instanceId}`}>{r.instanceName ?? r.instanceId}</a>
);

function RecoveryRows({ rows, zone }: { rows: RecoveryView[]; zone: string }) {
  return (
    <Table headers={['Instance', 'Cause', 'Status', 'Step', 'Began', 'Ended', 'Error', '']}>
      {rows.map((r) => (
        <tr>
          <td>{instanceLink(r)}</td>
          <td>{CAUSE_LABELS[r.cause] ?? r.cause}</td>
          <td>
            <StatusBadge status={r.status} />
            {r.inPlace ? <span class="muted small"> in place</span> : null}
            {errorOrNote(r).note && !r.inPlace ? (
              <div class="small muted">{errorOrNote(r).note}</div>
            ) : null}
            {r.waitingFor && (r.status === 'pending' || r.status === 'running') ? (
              <div class="small">{WAIT_LABELS[r.waitingFor] ?? r.waitingFor}</div>
            ) : null}
            {r.status === 'failed' && r.retryAt ? (
              <div class="small muted">
                retried <Time at={r.retryAt} zone={zone} />
              </div>
            ) : null}
          </td>
          <td class="small">{STEP_LABELS[r.step] ?? r.step}</td>
          <td>
            <Time at={r.startedAt} zone={zone} />
          </td>
          <td>
            <Time at={r.endedAt} zone={zone} />
          </td>
          <td class="small">{errorOrNote(r).error ?? ''}</td>
          <td>
            <a href={`/admin/recoveries/${r.id}`}>Details</a>
          </td>
        </tr>
      ))}
    </Table>
  );
}

function href(query: RecoveriesQuery, cursor?: string) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  const s = params.toString();
  return `/admin/recoveries${s ? `?${s}` : ''}`;
}

/** Recoveries: active ones, recent ones (filters, search, pages), retained volumes, reconcile runs. */
export function RecoveriesPage(p: RecoveriesPageProps) {
  const filtered = Boolean(p.query.status || p.query.cause || p.query.q);
  return (
    <>
      <h1>Recoveries</h1>
      <p class="muted small">
        Reconcile compares every instance with its Fly machine each minute and recovers those that
        should run and do not. Recovery is {p.settings.enabled ? 'on' : 'off'}; relocation is{' '}
        {p.settings.relocation ? 'on' : 'off'}; old volumes with snapshots are kept{' '}
        {p.settings.retainDays} days; fallback regions:{' '}
        {p.settings.fallbackRegions.length ? p.settings.fallbackRegions.join(', ') : 'none'}.
        Nothing is destroyed before its replacement exists: a recovery that cannot make one waits
        for the host or for capacity, looking again at most {formatDuration(p.settings.waitMaxMs)}{' '}
        apart; reconcile resumes a failed one at most {formatDuration(p.settings.retryMaxMs)} after
        it failed. Read <Time at={p.readAt} zone={p.zone} /> · <a href={href(p.query)}>Reload</a>
      </p>
      <form
        method="post"
        action="/admin/recoveries/reconcile"
        hx-boost="true"
        {...confirmAttrs({
          title: 'Run a reconcile now?',
          detail:
            'Every Fly app is listed once and compared with the database; instances that should run and do not begin a recovery.',
          ok: 'Reconcile now',
          tone: 'primary',
        })}
      >
        <button type="submit">Reconcile now</button>
      </form>
      <section>
        <h2>Active</h2>
        {p.active.length ? (
          <RecoveryRows rows={p.active} zone={p.zone} />
        ) : (
          <EmptyState title="No recovery is running.">
            <p class="muted">Reconcile begins one when a machine stops while it should run.</p>
          </EmptyState>
        )}
      </section>
      <section>
        <h2>Recent</h2>
        <form class="toolbar" method="get" action="/admin/recoveries">
          <label>
            Instance
            <input type="search" name="q" value={p.query.q ?? ''} placeholder="name or owner" />
          </label>
          <label>
            Status
            <select name="status">
              <option value="">any</option>
              {['pending', 'running', 'succeeded', 'failed'].map((s) => (
                <option value={s} selected={p.query.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Cause
            <select name="cause">
              <option value="">any</option>
              {Object.entries(CAUSE_LABELS).map(([value, label]) => (
                <option value={value} selected={p.query.cause === value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
        {p.recent.length ? (
          <>
            <RecoveryRows rows={p.recent} zone={p.zone} />
            <Pager prev={p.prev} next={p.next} href={(c) => href(p.query, c)} />
          </>
        ) : (
          <EmptyState
            title={filtered ? 'No recovery matches these filters.' : 'No recoveries yet.'}
          >
            {filtered ? (
              <p>
                <a href="/admin/recoveries">Clear the filters</a>
              </p>
            ) : null}
          </EmptyState>
        )}
      </section>
      <section>
        <h2>Retained volumes</h2>
        {p.retained.length ? (
          <Table headers={['Instance', 'Volume', 'Deleted after', 'Recovery']}>
            {p.retained.map((r) => (
              <tr>
                <td>{instanceLink(r)}</td>
                <td>
                  <code>{r.retainedVolumeId}</code>
                </td>
                <td>
                  <Time at={r.retainUntil} zone={p.zone} />
                </td>
                <td>
                  <a href={`/admin/recoveries/${r.id}`}>Details</a>
                </td>
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="No old volume is being kept.">
            <p class="muted">An old volume with snapshots is kept after a move, then deleted.</p>
          </EmptyState>
        )}
      </section>
      <section>
        <h2>Reconcile runs</h2>
        {p.runs.length ? (
          <Table
            headers={[
              'Began',
              'Duration',
              'Compared',
              'Diverged',
              'Recoveries',
              'Recorded',
              'Volumes deleted',
              'By',
              'Errors',
            ]}
          >
            {p.runs.map((run) => (
              <tr>
                <td>
                  <Time at={run.startedAt} zone={p.zone} />
                </td>
                <td>{formatDuration(run.durationMs)}</td>
                <td>{run.compared}</td>
                <td>{run.diverged}</td>
                <td>
                  {run.recoveriesStarted}
                  {run.recoveriesRetried ? (
                    <span class="muted small"> + {run.recoveriesRetried} resumed</span>
                  ) : null}
                </td>
                <td>{run.recorded}</td>
                <td>{run.volumesDeleted}</td>
                <td>{run.trigger}</td>
                <td class="small">{run.errors.join('; ')}</td>
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="Reconcile has not run yet.">
            <p class="muted">Its QStash schedule rings it every minute.</p>
          </EmptyState>
        )}
      </section>
    </>
  );
}

/** One recovery: what it saw, what it made, and each step with its duration. */
export function RecoveryDetailPage({
  r,
  steps,
  zone,
}: {
  r: RecoveryView;
  steps: StepSpanView[];
  zone: string;
}) {
  return (
    <>
      <p class="small">
        <a href="/admin/recoveries">← Recoveries</a>
      </p>
      <h1>
        Recovery of {instanceLink(r)} <StatusBadge status={r.status} />
      </h1>
      {errorOrNote(r).error && !r.waitingFor ? (
        <div class={`flash ${r.status === 'failed' ? 'flash-error' : 'flash-warn'}`} role="alert">
          {r.lastError}
        </div>
      ) : errorOrNote(r).note ? (
        <p class="muted" data-note>
          {errorOrNote(r).note}
        </p>
      ) : null}
      <WaitingNote r={r} zone={zone} />
      <div class="grid2">
        <section class="panel">
          <h2>What happened</h2>
          <dl class="facts">
            <dt>Cause</dt>
            <dd>
              {CAUSE_LABELS[r.cause] ?? r.cause} (Fly: {r.flyState ?? 'no machine'}, host{' '}
              {r.hostStatus ?? '—'})
            </dd>
            <dt>Trigger</dt>
            <dd>
              {r.trigger} · {r.requestedBy}
            </dd>
            <dt>Outcome</dt>
            <dd>
              {STEP_LABELS[r.step] ?? r.step}
              {r.inPlace ? ' (in place)' : ''}
              {r.failedStep ? ` in ${STEP_LABELS[r.failedStep] ?? r.failedStep}` : ''}
            </dd>
            <dt>Claims</dt>
            <dd>{r.attempts}</dd>
            <dt>Began · ended</dt>
            <dd>
              <Time at={r.startedAt} zone={zone} /> · <Time at={r.endedAt} zone={zone} />
            </dd>
          </dl>
        </section>
        <section class="panel">
          <h2>Machines and volumes</h2>
          <dl class="facts">
            <dt>Old machine · volume</dt>
            <dd>
              <code>{r.oldMachineId ?? '—'}</code> · <code>{r.oldVolumeId ?? '—'}</code> in{' '}
              {r.oldRegion}
              {r.oldMachineDestroyedAt ? (
                <div class="small muted">
                  old machine destroyed <Time at={r.oldMachineDestroyedAt} zone={zone} />, once its
                  replacement existed
                </div>
              ) : null}
            </dd>
            <dt>New machine · volume</dt>
            <dd>
              <code>{r.newMachineId ?? '—'}</code> · <code>{r.newVolumeId ?? '—'}</code>
              {r.regionTried ? ` in ${r.regionTried}` : ''}
              {r.volumeSource ? ` (${r.volumeSource})` : ''}
            </dd>
            <dt>Old volume</dt>
            <dd>
              {r.oldVolumeDeletedAt ? (
                <>
                  deleted <Time at={r.oldVolumeDeletedAt} zone={zone} />
                </>
              ) : r.retainedVolumeId ? (
                <>
                  retained until <Time at={r.retainUntil} zone={zone} />
                </>
              ) : (
                'kept (not moved)'
              )}
            </dd>
          </dl>
          {r.status === 'failed' ? (
            <form
              hx-boost="true"
              method="post"
              action={`/admin/recoveries/${r.id}/retry`}
              {...confirmAttrs({
                title: 'Retry this recovery?',
                detail:
                  'The instance becomes recovering again and the recovery resumes from the step it failed in.',
                ok: 'Retry recovery',
                tone: 'primary',
              })}
            >
              <button type="submit">Retry</button>
            </form>
          ) : null}
        </section>
      </div>
      <section>
        <h2>Steps</h2>
        <StepTable steps={steps} zone={zone} />
      </section>
    </>
  );
}
