import { StatusBadge } from '../components/badge.tsx';
import { Time } from '../components/time.tsx';
import { formatDuration } from '../format.ts';

/** One recovery as the console shows it (the API's JSON shape, times as Dates). */
export type RecoveryView = {
  id: string;
  instanceId: string;
  instanceName: string | null;
  trigger: string;
  cause: string;
  flyState: string | null;
  hostStatus: string | null;
  status: string;
  step: string;
  failedStep: string | null;
  inPlace: boolean;
  attempts: number;
  stepFailures: number;
  oldMachineId: string | null;
  newMachineId: string | null;
  oldVolumeId: string | null;
  newVolumeId: string | null;
  oldRegion: string;
  regionTried: string | null;
  volumeSource: string | null;
  retainedVolumeId: string | null;
  retainUntil: Date | null;
  oldVolumeDeletedAt: Date | null;
  lastError: string | null;
  /** `host_unreachable` or `insufficient_capacity` while it waits (nothing destroyed). */
  waitingFor: string | null;
  waitingSince: Date | null;
  waits: number;
  /** When an active recovery looks again. */
  nextAttemptAt: Date | null;
  oldMachineDestroyedAt: Date | null;
  /** A failed one: when reconcile resumes it. */
  retryAt: Date | null;
  autoRetries: number;
  requestedBy: string;
  startedAt: Date;
  endedAt: Date | null;
};

export type StepSpanView = {
  step: string;
  at: Date;
  durationMs: number | null;
  note: string | null;
};

export const STEP_LABELS: Record<string, string> = {
  in_place_start: 'Start in place',
  started: 'Relocation started (replacement volume)',
  volume_created: 'Volume created (replacement machine)',
  machine_created: 'Machine created (waiting for started, health probe)',
  machine_started: 'Machine started (cut-over)',
  cut_over: 'Cut over (old volume)',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

export const CAUSE_LABELS: Record<string, string> = {
  machine_stopped: 'machine stopped',
  machine_failed: 'machine failed',
  machine_destroyed: 'machine destroyed',
  machine_missing: 'machine missing',
  host_unreachable: 'host unreachable',
  admin_request: 'admin request',
};

/** Each step the recovery went through, when it was entered and how long it took. */
export function StepTable({ steps, zone }: { steps: StepSpanView[]; zone: string }) {
  return (
    <ol class="steps-log small">
      {steps.map((s) => (
        <li>
          <StatusBadge
            status={s.step}
            tone={s.step === 'failed' ? 'danger' : s.step === 'succeeded' ? 'ok' : 'info'}
          />{' '}
          {STEP_LABELS[s.step] ?? s.step} · <Time at={s.at} zone={zone} />
          {' · '}
          <span class="muted">
            {s.durationMs === null
              ? s.step === 'succeeded' || s.step === 'failed'
                ? 'end'
                : 'in progress'
              : formatDuration(s.durationMs)}
          </span>
          {s.note ? <div class="muted">{s.note}</div> : null}
        </li>
      ))}
    </ol>
  );
}
