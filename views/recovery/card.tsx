import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { Time } from '../components/time.tsx';
import {
  CAUSE_LABELS,
  type RecoveryView,
  STEP_LABELS,
  type StepSpanView,
  StepTable,
} from './steps.tsx';
import { errorOrNote, WaitingNote } from './waiting.tsx';

/** The steps in order, with the short names the progress pills show. */
const FLOW: [string, string][] = [
  ['in_place_start', 'In place'],
  ['started', 'Volume'],
  ['volume_created', 'Machine'],
  ['machine_created', 'Started + probe'],
  ['machine_started', 'Cut-over'],
  ['cut_over', 'Old volume'],
];

export type RecoveryCardProps = {
  instanceId: string;
  instanceName: string;
  instanceStatus: string;
  /** The active recovery, else the newest. */
  recovery: RecoveryView | null;
  steps: StepSpanView[];
  /** An old volume kept after a recovery and not deleted yet. */
  retained: { volumeId: string; retainUntil: Date | null } | null;
  /** The instance may begin a recovery (not busy, not destroyed). */
  canRecover: boolean;
  zone: string;
};

/**
 * The instance page's recovery card: the current (or last) recovery with its step, tries
 * and error, each step with its duration, Retry for a failed one, Recover now (confirmed),
 * and a retained old volume with Delete now (confirmed). Re-fetches itself every 2 s while
 * a recovery is active.
 */
export function RecoveryCard(p: RecoveryCardProps) {
  const r = p.recovery;
  const active = r ? r.status === 'pending' || r.status === 'running' : false;
  const reached = r ? FLOW.findIndex(([step]) => step === r.step) : -1;
  return (
    <div
      id="recovery"
      {...(active
        ? {
            'data-poll': '',
            'hx-get': `/admin/instances/${p.instanceId}/recovery`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
      data-active={active ? 'true' : 'false'}
    >
      {r ? (
        <>
          <p>
            <strong>{CAUSE_LABELS[r.cause] ?? r.cause}</strong> <StatusBadge status={r.status} />{' '}
            <span class="small muted">
              {r.inPlace ? 'started in place' : r.volumeSource ? `moved by ${r.volumeSource}` : ''}
            </span>{' '}
            <a class="small" href={`/admin/recoveries/${r.id}`}>
              Details →
            </a>
          </p>
          {active ? (
            <ol class="steps small">
              {FLOW.map(([, label], i) => (
                <li class={i < reached ? 'done' : i === reached ? 'current' : ''}>{label}</li>
              ))}
            </ol>
          ) : null}
          <dl class="facts small">
            <dt>Step</dt>
            <dd>
              {STEP_LABELS[r.step] ?? r.step}
              {r.failedStep ? ` (failed in: ${STEP_LABELS[r.failedStep] ?? r.failedStep})` : ''}
            </dd>
            <dt>Began</dt>
            <dd>
              <Time at={r.startedAt} zone={p.zone} /> by {r.requestedBy}
            </dd>
            <dt>Seen on Fly</dt>
            <dd>
              {r.flyState ?? '—'} · host {r.hostStatus ?? '—'}
            </dd>
            <dt>Claims · failed tries of this step</dt>
            <dd>
              {r.attempts} · {r.stepFailures}
            </dd>
            <dt>Region</dt>
            <dd>
              {r.oldRegion}
              {r.regionTried && r.regionTried !== r.oldRegion ? ` → ${r.regionTried}` : ''}
            </dd>
          </dl>
          {errorOrNote(r).error && !(active && r.waitingFor) ? (
            <div
              class={`flash ${r.status === 'failed' ? 'flash-error' : 'flash-warn'}`}
              role="alert"
            >
              {r.lastError}
            </div>
          ) : errorOrNote(r).note && !r.inPlace ? (
            <p class="small muted" data-note>
              {errorOrNote(r).note}
            </p>
          ) : null}
          <WaitingNote r={r} zone={p.zone} />
          <StepTable steps={p.steps} zone={p.zone} />
          {r.status === 'failed' ? (
            <form
              hx-boost="true"
              method="post"
              action={`/admin/recoveries/${r.id}/retry?from=instance`}
              {...confirmAttrs({
                title: 'Retry this recovery?',
                detail: `${p.instanceName} becomes recovering again and the recovery resumes from ${r.failedStep === 'in_place_start' ? 'the in-place start' : 'the start of the relocation (a new volume and machine)'}.`,
                ok: 'Retry recovery',
                tone: 'primary',
              })}
            >
              <button type="submit">Retry</button>
            </form>
          ) : null}
        </>
      ) : (
        <p class="muted">This instance has not been recovered.</p>
      )}
      {p.canRecover && !active ? (
        <form
          hx-boost="true"
          method="post"
          action={`/admin/instances/${p.instanceId}/recover`}
          {...confirmAttrs({
            title: `Recover ${p.instanceName} now?`,
            detail:
              'It becomes recovering and rejects other actions: its machine is started in place if its host is up, otherwise it moves to a replacement volume and machine.',
            ok: 'Recover now',
          })}
        >
          <button type="submit" class="secondary">
            Recover now
          </button>
        </form>
      ) : null}
      {p.retained ? (
        <form
          hx-boost="true"
          method="post"
          action={`/admin/instances/${p.instanceId}/retained-volume/delete`}
          class="stack"
          {...confirmAttrs({
            title: `Delete volume ${p.retained.volumeId} now?`,
            detail:
              'The old volume kept after the recovery is destroyed on Fly, with its data, after checking that no machine of anyone else holds it. Its snapshots stay until they expire.',
            ok: 'Delete volume',
          })}
        >
          <p class="small">
            Old volume <code>{p.retained.volumeId}</code> retained until{' '}
            <Time at={p.retained.retainUntil} zone={p.zone} />.
          </p>
          <button type="submit" class="secondary">
            Delete now
          </button>
        </form>
      ) : null}
    </div>
  );
}
