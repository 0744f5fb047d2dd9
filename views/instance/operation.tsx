import { StatusBadge } from '../components/badge.tsx';
import { Time } from '../components/time.tsx';
import { VersionChange } from '../components/version.tsx';

export type OperationView = {
  id: string;
  kind: string;
  status: string;
  step: string;
  fromImageTag: string | null;
  targetImageTag: string | null;
  expectedVersion: string | null;
  requestedBy: string;
  attempts: number;
  lastNote: string | null;
  error: string | null;
  createdAt: Date;
  deadlineAt: Date;
  finishedAt: Date | null;
};

const STEPS = [
  { step: 'call', label: 'Fly call' },
  { step: 'settle', label: 'Machine settles' },
  { step: 'probe', label: 'Health probe' },
] as const;

const LABEL: Record<string, string> = {
  provision: 'Provision',
  restart: 'Restart',
  version_change: 'Version change',
  stop: 'Stop',
  start: 'Start',
};

/**
 * The current (or last) action on an instance. While it is active the panel re-fetches
 * itself every two seconds (htmx), and reloads the page when it finishes.
 */
export function OperationPanel({
  op,
  instanceId,
  zone,
}: {
  op: OperationView | null;
  instanceId: string;
  zone: string;
}) {
  if (!op)
    return (
      <div id="operation" class="muted">
        No action has run on this instance yet.
      </div>
    );
  const active = op.status === 'pending' || op.status === 'running';
  const reached = STEPS.findIndex((s) => s.step === op.step);
  return (
    <div
      id="operation"
      {...(active
        ? {
            'data-poll': '',
            'hx-get': `/admin/instances/${instanceId}/operation`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
      data-active={active ? 'true' : 'false'}
    >
      <p>
        <strong>{LABEL[op.kind] ?? op.kind}</strong> <StatusBadge status={op.status} />{' '}
        {op.targetImageTag && op.kind !== 'restart' ? (
          <span class="small">
            <VersionChange from={op.fromImageTag} to={op.targetImageTag} />
          </span>
        ) : null}
      </p>
      {active ? (
        <ol class="steps small">
          {STEPS.map((s, i) => (
            <li class={i < reached ? 'done' : i === reached ? 'current' : ''}>{s.label}</li>
          ))}
        </ol>
      ) : null}
      <dl class="facts small">
        <dt>Requested</dt>
        <dd>
          <Time at={op.createdAt} zone={zone} /> by {op.requestedBy}
        </dd>
        {op.expectedVersion ? (
          <>
            <dt>Expected version</dt>
            <dd>
              <code>{op.expectedVersion}</code>
            </dd>
          </>
        ) : null}
        {active ? (
          <>
            <dt>Deadline</dt>
            <dd>
              <Time at={op.deadlineAt} zone={zone} />
            </dd>
          </>
        ) : (
          <>
            <dt>Finished</dt>
            <dd>
              <Time at={op.finishedAt} zone={zone} />
            </dd>
          </>
        )}
        <dt>Attempts</dt>
        <dd>{op.attempts}</dd>
      </dl>
      {active && op.lastNote ? <p class="muted small">Retrying: {op.lastNote}</p> : null}
      {op.error ? (
        <div class="flash flash-error" role="alert">
          {op.error}
        </div>
      ) : null}
    </div>
  );
}
