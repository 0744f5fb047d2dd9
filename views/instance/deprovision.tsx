import { confirmAttrs } from '../components/confirm.tsx';
import { Time } from '../components/time.tsx';

/** What the panel shows of an instance's deprovision (src/deprovision). */
export type DeprovisionView = {
  step: string;
  status: string;
  machineId: string | null;
  volumeId: string | null;
  volumeOutcome: string | null;
  volumeNote: string | null;
  retainUntil: Date | null;
  lastNote: string | null;
  requestedBy: string;
  createdAt: Date;
};

export type DeprovisionPanelProps = {
  instanceId: string;
  instanceName: string;
  machineId: string | null;
  volumeId: string | null;
  /** Usable snapshots of the volume Fly reported now; null when Fly was not read. */
  snapshots: number | null;
  retainDays: number;
  deprovision: DeprovisionView | null;
  zone: string;
};

const STEPS = [
  { step: 'waiting', label: 'Wait for the action or recovery step in flight' },
  { step: 'ending_work', label: 'Cancel scheduled targets and the CLI run, disable agents' },
  { step: 'destroying_machine', label: 'Destroy the machine' },
  { step: 'deleting_volume', label: 'Delete the volume, or keep it when it has snapshots' },
] as const;

/** What the confirmation says is destroyed, and what becomes of the volume. */
function volumeWords(p: DeprovisionPanelProps): string {
  if (!p.volumeId) return 'It has no volume.';
  if (p.snapshots === null)
    return `Volume ${p.volumeId} is deleted, or kept ${p.retainDays} days if Fly lists a snapshot of it.`;
  return p.snapshots > 0
    ? `Volume ${p.volumeId} has ${p.snapshots} snapshot${p.snapshots === 1 ? '' : 's'}: it is kept ${p.retainDays} days (RECOVERY_RETAIN_DAYS), then deleted.`
    : `Volume ${p.volumeId} has no snapshots: it is deleted now, and its data with it.`;
}

/**
 * Deprovision: a button that asks first (naming the machine and volume destroyed and
 * whether the volume is kept), then the deprovision's steps, polled every 2 s while it runs.
 */
export function DeprovisionPanel(p: DeprovisionPanelProps) {
  const d = p.deprovision;
  if (!d)
    return (
      <form
        id="deprovision"
        hx-boost="true"
        method="post"
        action={`/admin/instances/${p.instanceId}/deprovision`}
        {...confirmAttrs({
          title: `Deprovision ${p.instanceName}?`,
          detail: `Machine ${p.machineId ?? '(none)'} is destroyed. ${volumeWords(p)} Pending scheduled targets are cancelled, a live CLI run is cancelled and agents are disabled. This cannot be undone.`,
          ok: 'Deprovision 1 instance',
          tone: 'danger',
        })}
      >
        <button type="submit" class="danger">
          Deprovision…
        </button>{' '}
        <span class="muted small">Destroys the machine and the volume.</span>
      </form>
    );
  const active = d.status !== 'succeeded' && d.step !== 'retaining';
  const reached = STEPS.findIndex((s) => s.step === d.step);
  return (
    <div
      id="deprovision"
      {...(active
        ? {
            'data-poll': '',
            'hx-get': `/admin/instances/${p.instanceId}/deprovision`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
      data-step={d.step}
    >
      {active ? (
        <ol class="steps small">
          {STEPS.map((s, i) => (
            <li class={i < reached ? 'done' : i === reached ? 'current' : ''}>{s.label}</li>
          ))}
        </ol>
      ) : (
        <p>
          <strong>Destroyed.</strong>{' '}
          {d.volumeOutcome === 'retained' && d.retainUntil ? (
            <>
              Volume <code>{d.volumeId}</code> is kept until{' '}
              <Time at={d.retainUntil} zone={p.zone} /> (it has snapshots).
            </>
          ) : d.volumeOutcome === 'refused' ? (
            d.volumeNote
          ) : d.volumeId ? (
            <>
              Volume <code>{d.volumeId}</code> deleted.
            </>
          ) : null}
        </p>
      )}
      {d.lastNote ? <p class="muted small">{d.lastNote}</p> : null}
      <dl class="facts small">
        <dt>Requested</dt>
        <dd>
          <Time at={d.createdAt} zone={p.zone} /> by {d.requestedBy}
        </dd>
        <dt>Machine</dt>
        <dd>
          <code>{d.machineId ?? '—'}</code>
        </dd>
        <dt>Volume</dt>
        <dd>
          <code>{d.volumeId ?? '—'}</code>
        </dd>
      </dl>
    </div>
  );
}
