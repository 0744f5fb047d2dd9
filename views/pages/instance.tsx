import { CliRunCard, type CliRunCardProps } from '../cli-runs/card.tsx';
import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { Time } from '../components/time.tsx';
import { labelOf, Version } from '../components/version.tsx';
import { ActionsPanel, type ActionsProps } from '../instance/actions.tsx';
import { DeprovisionPanel, type DeprovisionPanelProps } from '../instance/deprovision.tsx';
import { LivePanel, type LiveView } from '../instance/live.tsx';
import { OperationPanel, type OperationView } from '../instance/operation.tsx';
import { Timeline, type TimelineEvent } from '../instance/timeline.tsx';
import { UpcomingAction, type UpcomingView } from '../instance/upcoming.tsx';
import { RecoveryCard, type RecoveryCardProps } from '../recovery/card.tsx';
import { type AuditRowView, AuditTable } from './audit.tsx';

export type InstanceDetailView = {
  id: string;
  name: string;
  appName: string;
  machineId: string | null;
  volumeId: string | null;
  region: string;
  imageTag: string | null;
  machineVersion: string | null;
  status: string;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  user: { id: string; email: string; displayName: string | null };
  pinnedImageTag: string | null;
};

export type InstancePageProps = {
  instance: InstanceDetailView;
  operation: OperationView | null;
  live: LiveView | null;
  readAt: Date;
  events: TimelineEvent[];
  audit: AuditRowView[];
  upcoming: UpcomingView | null;
  /** The CLI run card (src/cli-runs); null leaves it out. */
  cliRuns?: CliRunCardProps | null;
  /** The recovery card (src/recovery); null leaves it out. */
  recovery?: RecoveryCardProps | null;
  /** The deprovision panel (src/deprovision); null leaves it out. */
  deprovision?: DeprovisionPanelProps | null;
  actions: Omit<ActionsProps, 'instanceId' | 'status' | 'imageTag' | 'pinnedImageTag'>;
  zone: string;
};

/** One instance: facts, owner, actions and their progress, the live machine, pin, timeline, audit. */
export function InstancePage(p: InstancePageProps) {
  const i = p.instance;
  return (
    <>
      <p class="small">
        <a href="/admin/instances">← Instances</a>
      </p>
      <h1>
        {i.name} <StatusBadge status={i.status} />
      </h1>
      {i.lastError && (i.status === 'failed' || i.status === 'stopped') ? (
        <div class="flash flash-error" role="alert">
          {/* Said of an action only when the last action did fail: the error may be a
              recovery's or the provisioning's, and the panel below may say no action ran. */}
          <strong>
            {p.operation?.status === 'failed' && p.operation.error === i.lastError
              ? 'The last action failed.'
              : `The instance is ${i.status}: its last error.`}
          </strong>{' '}
          {i.lastError}
        </div>
      ) : null}
      <div class="grid2">
        <section class="panel">
          <h2>Instance</h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{i.id}</code>
            </dd>
            <dt>Fly app</dt>
            <dd>
              <code>{i.appName}</code>
            </dd>
            <dt>Machine</dt>
            <dd>
              <code>{i.machineId ?? '—'}</code>
            </dd>
            <dt>Volume</dt>
            <dd>
              <code>{i.volumeId ?? '—'}</code>
            </dd>
            <dt>Region</dt>
            <dd>{i.region}</dd>
            <dt>Version</dt>
            <dd>
              <Version tag={i.imageTag} />
              {i.imageTag ? <div class="muted small mono">{i.imageTag}</div> : null}
              {i.machineVersion ? (
                <div class="muted small">machine version {i.machineVersion}</div>
              ) : null}
            </dd>
            <dt>Owner</dt>
            <dd>
              {i.user.displayName ?? i.user.email}
              {i.user.displayName ? <div class="muted small">{i.user.email}</div> : null}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={i.createdAt} zone={p.zone} />
            </dd>
            <dt>Upcoming scheduled action</dt>
            <dd>
              <UpcomingAction instanceId={i.id} upcoming={p.upcoming} zone={p.zone} />
            </dd>
          </dl>
        </section>
        <section class="panel">
          <h2>Actions</h2>
          <ActionsPanel
            instanceId={i.id}
            status={i.status}
            imageTag={i.imageTag}
            pinnedImageTag={i.pinnedImageTag}
            {...p.actions}
          />
          <h2>Current action</h2>
          <OperationPanel op={p.operation} instanceId={i.id} zone={p.zone} />
          {p.deprovision ? (
            <>
              <h2>Deprovision</h2>
              <DeprovisionPanel {...p.deprovision} />
            </>
          ) : null}
        </section>
      </div>
      {p.cliRuns ? (
        <section class="panel">
          <h2>CLI run</h2>
          <CliRunCard {...p.cliRuns} />
        </section>
      ) : null}
      <div class="grid2">
        <section class="panel">
          <h2>Live machine</h2>
          {p.live ? (
            <LivePanel instanceId={i.id} live={p.live} readAt={p.readAt} zone={p.zone} />
          ) : (
            <p class="muted">Not read.</p>
          )}
        </section>
        <section class="panel">
          <h2>Version pin</h2>
          {i.pinnedImageTag ? (
            <form
              hx-boost="true"
              method="post"
              action={`/admin/instances/${i.id}/unpin`}
              {...confirmAttrs({
                title: 'Remove the pin?',
                detail: `This instance stays on ${i.pinnedImageTag} for now, but rollouts may then move it.`,
                ok: 'Remove pin',
              })}
            >
              <p>
                Pinned to <code>{i.pinnedImageTag}</code>: rollouts skip it unless an admin
                overrides the pin.
              </p>
              <button type="submit" class="secondary">
                Remove pin
              </button>
            </form>
          ) : (
            <form
              hx-boost="true"
              method="post"
              action={`/admin/instances/${i.id}/pin`}
              class="stack"
            >
              <p class="muted small">
                A pinned instance stays on its version: rollouts skip it unless overridden.
              </p>
              <label>
                Pin to
                <select name="imageTag">
                  {p.actions.availableTags.map((tag) => (
                    <option value={tag} selected={tag === i.imageTag} title={tag}>
                      {labelOf(tag)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Reason
                <input
                  type="text"
                  name="reason"
                  maxlength={300}
                  placeholder="customer asked to stay"
                />
              </label>
              <button type="submit" class="secondary">
                Pin
              </button>
            </form>
          )}
          <h2>Timeline</h2>
          <Timeline events={p.events} zone={p.zone} />
        </section>
      </div>
      {p.recovery ? (
        <section class="panel">
          <h2>Recovery</h2>
          <RecoveryCard {...p.recovery} />
        </section>
      ) : null}
      <section>
        <h2>Audit entries</h2>
        <AuditTable rows={p.audit} zone={p.zone} empty="No admin has acted on this instance yet." />
        <p class="small">
          <a href={`/admin/audit?subjectType=instance&subjectId=${i.id}`}>
            All audit entries for this instance →
          </a>
        </p>
      </section>
    </>
  );
}
