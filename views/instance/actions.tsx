import { confirmAttrs } from '../components/confirm.tsx';
import { labelOf, Version } from '../components/version.tsx';

/**
 * What holds the instance now, so that its actions would be refused (docs/seams.md): a
 * deprovision, a live CLI run, an action in progress, a recovery, or a busy status with
 * none of these on record (`provisioning`, `destroying`, …).
 */
export type InstanceHolder =
  | { kind: 'deprovision' }
  | { kind: 'cli_run'; id: string }
  | { kind: 'operation'; label: string }
  | { kind: 'recovery'; id: string }
  | { kind: 'status'; status: string };

/** The sentence naming the holder, with a link to it (a page, or the card below). */
export function HolderNote({ holder }: { holder: InstanceHolder }) {
  const until = 'Its actions are available again when it ends.';
  return (
    <p class="flash flash-warn small" role="status" data-holder={holder.kind}>
      {holder.kind === 'cli_run' ? (
        <>
          A CLI run is live on this instance (
          <a href={`/admin/cli-runs/${holder.id}`}>open the run</a>
          ). Its actions are available again when it ends or is cancelled.
        </>
      ) : holder.kind === 'operation' ? (
        <>
          {holder.label} is in progress (<a href="#operation">see Current action</a>). {until}
        </>
      ) : holder.kind === 'recovery' ? (
        <>
          The instance is being recovered (
          <a href={`/admin/recoveries/${holder.id}`}>open the recovery</a>
          ). {until}
        </>
      ) : holder.kind === 'deprovision' ? (
        <>
          The instance is being deprovisioned (<a href="#deprovision">see Deprovision</a>); it takes
          no other action.
        </>
      ) : (
        <>
          The instance is {holder.status}. {until}
        </>
      )}
    </p>
  );
}

export type ActionsProps = {
  instanceId: string;
  status: string;
  /** What holds the instance (its buttons are disabled, and the note names it); null: free. */
  holder: InstanceHolder | null;
  imageTag: string | null;
  pinnedImageTag: string | null;
  latestImageTag: string | null;
  availableTags: string[];
};

/**
 * Restart, change version, upgrade to latest, stop and start. Disabled, with a sentence
 * naming the holder and a link to it, while something holds the instance (they would be
 * refused); the destructive ones ask for confirmation first.
 */
export function ActionsPanel(p: ActionsProps) {
  const base = `/admin/instances/${p.instanceId}/actions`;
  const disabled = p.holder !== null;
  const canStop = !disabled && (p.status === 'running' || p.status === 'failed');
  const canStart = !disabled && (p.status === 'stopped' || p.status === 'failed');
  const latestDiffers = p.latestImageTag && p.latestImageTag !== p.imageTag;
  return (
    <div class="stack" id="actions">
      {p.holder ? <HolderNote holder={p.holder} /> : null}
      <form
        hx-boost="true"
        method="post"
        action={`${base}/restart`}
        {...confirmAttrs({
          title: 'Restart this instance?',
          detail:
            "Its machine is redeployed on the current image; the user's agent is briefly offline.",
          ok: 'Restart 1 instance',
        })}
      >
        <button type="submit" disabled={disabled}>
          Restart
        </button>{' '}
        <span class="muted small">Redeploys the current image.</span>
      </form>
      <form hx-boost="true" method="post" action={`${base}/version`} class="toolbar">
        <label>
          Change version to
          <select name="imageTag" required disabled={disabled}>
            {p.availableTags.map((tag) => (
              <option
                value={tag}
                title={tag}
                selected={tag === p.imageTag}
                disabled={tag === p.imageTag}
              >
                {labelOf(tag)}
                {tag === p.imageTag ? ' (current)' : ''}
              </option>
            ))}
          </select>
        </label>
        {p.pinnedImageTag ? (
          <label>
            <span>
              <input type="checkbox" name="overridePin" value="true" /> Replace the pin (
              {p.pinnedImageTag})
            </span>
          </label>
        ) : null}
        <button type="submit" class="secondary" disabled={disabled}>
          Change version
        </button>
      </form>
      <form
        hx-boost="true"
        method="post"
        action={`${base}/upgrade-to-latest`}
        {...confirmAttrs({
          title: `Upgrade this instance to ${p.latestImageTag ? labelOf(p.latestImageTag) : 'the latest image'} now?`,
          detail: `The machine restarts on ${p.latestImageTag ?? 'the latest image'}.${p.pinnedImageTag ? ' Its pin moves to it.' : ''}`,
          ok: 'Upgrade 1 instance',
        })}
      >
        {p.pinnedImageTag ? <input type="hidden" name="overridePin" value="true" /> : null}
        <button type="submit" disabled={disabled || !latestDiffers}>
          Upgrade to latest now
        </button>{' '}
        <span class="muted small">
          {latestDiffers ? <Version tag={p.latestImageTag} /> : 'Already on the latest image.'}
          {p.pinnedImageTag && latestDiffers ? ' (replaces the pin)' : ''}
        </span>
      </form>
      <div>
        <form
          hx-boost="true"
          class="inline"
          method="post"
          action={`${base}/stop`}
          {...confirmAttrs({
            title: "Stop this instance's machine?",
            detail: "The user's agent goes offline until it is started again.",
            ok: 'Stop 1 instance',
          })}
        >
          <button type="submit" class="danger" disabled={!canStop}>
            Stop
          </button>
        </form>{' '}
        <form hx-boost="true" class="inline" method="post" action={`${base}/start`}>
          <button type="submit" class="secondary" disabled={!canStart}>
            Start
          </button>
        </form>
      </div>
    </div>
  );
}
