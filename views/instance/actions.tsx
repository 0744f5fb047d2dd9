import { confirmAttrs } from '../components/confirm.tsx';
import { labelOf, Version } from '../components/version.tsx';
export type ActionsProps = {
  instanceId: string;
  status: string;
  busy: boolean;
  imageTag: string | null;
  pinnedImageTag: string | null;
  latestImageTag: string | null;
  availableTags: string[];
};

/**
 * Restart, change version, upgrade to latest, stop and start. Disabled while the instance
 * is busy; the destructive ones ask for confirmation first.
 */
export function ActionsPanel(p: ActionsProps) {
  const base = `/admin/instances/${p.instanceId}/actions`;
  const disabled = p.busy;
  const canStop = !p.busy && (p.status === 'running' || p.status === 'failed');
  const canStart = !p.busy && (p.status === 'stopped' || p.status === 'failed');
  const latestDiffers = p.latestImageTag && p.latestImageTag !== p.imageTag;
  return (
    <div class="stack">
      {p.busy ? (
        <p class="muted small">
          Another action is running; these are available again when it finishes.
        </p>
      ) : null}
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
