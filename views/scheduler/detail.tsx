import type { Child } from 'hono/jsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { Time } from '../components/time.tsx';
import { Version } from '../components/version.tsx';
import { count } from '../plural.ts';
import { type ActionDetailView, isLive, ProgressPanel } from './progress.tsx';
import { ACTION_LABEL, instancesWord } from './words.ts';

/**
 * The action's controls, each confirmed in the dialog: pause (scheduled or running), resume
 * (paused or halted), cancel (while anything can still be cancelled; not while cancelling),
 * and retry the failed targets once it has ended (a cancelling action has not).
 */
function Controls({ a }: { a: ActionDetailView }) {
  // Cancellable: not ended and not already cancelling (its targets in flight just finish).
  const open = (isLive(a.status) && a.status !== 'cancelling') || a.status === 'halted';
  const ended = a.status === 'completed' || a.status === 'failed' || a.status === 'cancelled';
  const form = (
    path: string,
    label: string,
    confirm: Parameters<typeof confirmAttrs>[0],
    danger = false,
  ) => (
    <form
      hx-boost="true"
      method="post"
      action={`/admin/scheduler/${a.id}/${path}`}
      {...confirmAttrs(confirm)}
    >
      <button type="submit" {...(danger ? { class: 'danger' } : {})}>
        {label}
      </button>
    </form>
  );
  return (
    <div class="toolbar actions-bar">
      {a.status === 'scheduled' || a.status === 'running'
        ? form('pause', 'Pause', {
            title: 'Pause this action?',
            detail:
              'Targets being applied finish and record their outcome; nothing new starts until you resume it.',
            ok: 'Pause action',
            tone: 'primary',
          })
        : null}
      {a.status === 'paused'
        ? form('resume', 'Resume', {
            title: 'Resume this action?',
            detail: 'It goes on where it stopped.',
            ok: 'Resume action',
            tone: 'primary',
          })
        : null}
      {a.status === 'halted'
        ? form('resume', 'Resume', {
            title: 'Resume this action?',
            detail:
              'Its halted stages run again from now, keeping the interval between them; their halted targets become pending again.',
            ok: 'Resume action',
            tone: 'primary',
          })
        : null}
      {open
        ? form(
            'cancel',
            'Cancel action',
            {
              title: 'Cancel this action?',
              // {n}: the pending count as the targets table's poll last read it.
              detail: {
                one: 'Its {n} pending target is cancelled; a target being applied finishes and records its outcome.',
                other:
                  'Its {n} pending targets are cancelled; targets being applied finish and record their outcome.',
              },
              ok: { one: 'Cancel {n} pending target', other: 'Cancel {n} pending targets' },
              countFrom: '#pending-targets',
            },
            true,
          )
        : null}
      {ended && a.failed > 0
        ? form(`retry-failed`, `Retry ${count(a.failed, 'failed target')}`, {
            title: `Retry ${count(a.failed, 'failed target')}?`,
            detail: `A new action applies the same change to the ${count(a.failed, 'instance')} that failed, starting now.`,
            ok: `Retry ${count(a.failed, 'failed target')}`,
            tone: 'primary',
          })
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
  targets: Child;
  notices?: Child;
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
            to <Version tag={a.targetImageTag} />
          </>
        ) : null}
      </h1>
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
            Stages {a.stagePercents.join(', ')} % · every{' '}
            {count(a.stageIntervalSeconds / 60, 'minute')} ·{' '}
            {a.failureThresholdPercent === null
              ? 'no failure gate'
              : `halt above ${a.failureThresholdPercent}% failed`}{' '}
            · at most {a.maxInFlight} at once
            {a.includeStopped ? ' · stopped instances included' : ''}
          </dd>
        </dl>
        <Controls a={a} />
      </section>
      <section class="panel">
        <h2>Progress</h2>
        <ProgressPanel a={a} zone={p.zone} />
      </section>
      <section class="panel">
        <h2>Notices</h2>
        {p.notices ?? null}
      </section>
      <section id="targets">
        <h2>Targets</h2>
        {p.targets}
      </section>
    </>
  );
}
