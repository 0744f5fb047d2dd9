import type { Child } from 'hono/jsx';
import { Flash } from '../components/flash.tsx';
import { Time } from '../components/time.tsx';
import { type ActionDetailView, isLive, ProgressPanel } from './progress.tsx';
import { ACTION_LABEL, instancesWord } from './words.ts';

/**
 * The action's controls, each confirmed: pause (scheduled or running), resume (paused or
 * halted), cancel (while anything can still be cancelled), and retry the failed targets
 * once it has ended.
 */
function Controls({ a, pending }: { a: ActionDetailView; pending: number }) {
  const open = isLive(a.status) || a.status === 'halted';
  const ended = !open;
  const form = (path: string, confirm: string, label: string, danger = false) => (
    <form
      hx-boost="true"
      method="post"
      action={`/admin/scheduler/${a.id}/${path}`}
      hx-confirm={confirm}
    >
      <button type="submit" {...(danger ? { class: 'danger' } : {})}>
        {label}
      </button>
    </form>
  );
  return (
    <div class="toolbar actions-bar">
      {a.status === 'scheduled' || a.status === 'running'
        ? form(
            'pause',
            'Pause this action? Targets being applied finish; nothing new starts until you resume it.',
            'Pause',
          )
        : null}
      {a.status === 'paused'
        ? form('resume', 'Resume this action where it stopped?', 'Resume')
        : null}
      {a.status === 'halted'
        ? form(
            'resume',
            'Resume this action? Its halted stages run again from now, keeping the interval between them.',
            'Resume',
          )
        : null}
      {open
        ? form(
            'cancel',
            `Cancel this action? ${instancesWord(pending)} pending are cancelled; targets being applied finish and record their outcome.`,
            'Cancel action',
            true,
          )
        : null}
      {ended && a.failed > 0
        ? form(
            'retry-failed',
            `Schedule the ${instancesWord(a.failed)} that failed again, as a new action starting now?`,
            `Retry ${a.failed} failed`,
          )
        : null}
    </div>
  );
}

/**
 * One scheduled action: what it does and why, its live progress and stages, the controls
 * to cancel or resume it, and its targets.
 */
export function ActionDetailPage(p: {
  action: ActionDetailView;
  /** Targets still pending (what "Cancel action" cancels). */
  pending: number;
  targets: Child;
  flash: { tone: 'ok' | 'error'; text: string } | null;
  zone: string;
}) {
  const a = p.action;
  return (
    <>
      <p class="small">
        <a href="/admin/scheduler">← Scheduler</a>
      </p>
      <h1>
        {ACTION_LABEL[a.actionType]} of {instancesWord(a.total)}
        {a.targetImageTag && a.actionType === 'version_change' ? (
          <>
            {' '}
            to <code>{a.targetImageTag}</code>
          </>
        ) : null}
      </h1>
      {p.flash ? <Flash tone={p.flash.tone}>{p.flash.text}</Flash> : null}
      <section class="panel">
        <h2>Action</h2>
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{a.id}</code>
          </dd>
          <dt>Type</dt>
          <dd>{ACTION_LABEL[a.actionType]}</dd>
          {a.actionType === 'version_change' ? (
            <>
              <dt>Target</dt>
              <dd>
                <code>{a.targetImageTag}</code>
                {a.overridePins ? <div class="small">Pins overridden</div> : null}
              </dd>
            </>
          ) : null}
          <dt>Reason</dt>
          <dd>{a.reason}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={a.createdAt} zone={p.zone} /> by {a.createdBy}
          </dd>
          <dt>Rollout</dt>
          <dd>
            Stages {a.stagePercents.join(', ')} % · every {a.stageIntervalSeconds / 60} min ·{' '}
            {a.failureThresholdPercent === null
              ? 'no failure gate'
              : `halt above ${a.failureThresholdPercent}% failed`}{' '}
            · at most {a.maxInFlight} at once
            {a.includeStopped ? ' · stopped instances included' : ''}
          </dd>
        </dl>
        <Controls a={a} pending={p.pending} />
      </section>
      <section class="panel">
        <h2>Progress</h2>
        <ProgressPanel a={a} zone={p.zone} />
      </section>
      <section id="targets">
        <h2>Targets</h2>
        {p.targets}
      </section>
    </>
  );
}
