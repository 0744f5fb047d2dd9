import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Table } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import {
  type CliRunView,
  Initiator,
  isLiveRun,
  Outcome,
  OutputBlock,
  promptLine,
} from './parts.tsx';

export type CliRunCardProps = {
  instanceId: string;
  instanceName: string;
  instanceStatus: string;
  /** The live run, if any. */
  live: CliRunView | null;
  /** The newest runs (the live one included). */
  recent: CliRunView[];
  zone: string;
};

/** Cancel, confirmed in the console's dialog. `from` says which page to come back to. */
export function CancelRunForm({ run, from }: { run: CliRunView; from: 'instance' | 'run' }) {
  return (
    <form
      hx-boost="true"
      method="post"
      action={`/admin/cli-runs/${run.id}/cancel?from=${from}`}
      {...confirmAttrs({
        title: 'Cancel this CLI run?',
        detail: `The CLI process on ${run.instanceName} is stopped; the output so far is kept, and the instance accepts restarts and version changes again.`,
        ok: 'Cancel the run',
      })}
    >
      <button type="submit" class="danger">
        Cancel run
      </button>
    </form>
  );
}

/**
 * The instance page's CLI run card: the live run (status, prompt, output streamed as it
 * arrives, Cancel) or a start form (confirmed: the instance is busy while the run lasts),
 * then the last runs with their outcome.
 */
export function CliRunCard(p: CliRunCardProps) {
  const live = p.live;
  return (
    <div id="cli-run">
      {live ? (
        <div class="stack">
          <p>
            <strong>Live run</strong> <Outcome run={live} /> <Initiator run={live} />{' '}
            <a class="small" href={`/admin/cli-runs/${live.id}`}>
              Run page →
            </a>
          </p>
          <p class="small">
            Started <Time at={live.createdAt} zone={p.zone} /> · prompt:{' '}
            <code>{promptLine(live.prompt)}</code>
          </p>
          {live.lastError ? (
            <div class="flash flash-warn" role="status">
              {live.lastError}
            </div>
          ) : null}
          <OutputBlock run={live} stream={`/admin/cli-runs/${live.id}/events`} />
          <CancelRunForm run={live} from="instance" />
        </div>
      ) : p.instanceStatus === 'running' ? (
        <form
          hx-boost="true"
          method="post"
          action={`/admin/instances/${p.instanceId}/cli-runs`}
          class="stack"
          {...confirmAttrs({
            title: `Start a CLI run on ${p.instanceName}?`,
            detail:
              'The CLI runs inside the instance with this prompt. While it runs the instance is busy: restarts, version changes and stops are refused, and scheduled actions wait, until it ends or is cancelled.',
            ok: 'Start the run',
            tone: 'primary',
          })}
        >
          <label>
            Prompt
            <textarea
              name="prompt"
              required
              minlength={1}
              maxlength={10000}
              rows={3}
              placeholder="The agent stopped answering; find out why and repair it."
            />
          </label>
          <button type="submit">Start CLI run</button>
        </form>
      ) : (
        <p class="muted">A CLI run needs a running instance (this one is {p.instanceStatus}).</p>
      )}
      <h3>Last runs</h3>
      {p.recent.length ? (
        <Table headers={['Started', 'Prompt', 'Outcome', 'By', '']}>
          {p.recent.map((r) => (
            <tr>
              <td>
                <Time at={r.createdAt} zone={p.zone} />
              </td>
              <td>
                <code>{promptLine(r.prompt, 50)}</code>
              </td>
              <td>
                <Outcome run={r} />
              </td>
              <td>
                <Initiator run={r} />
              </td>
              <td>
                <a href={`/admin/cli-runs/${r.id}`}>{isLiveRun(r) ? 'Follow' : 'Output'} →</a>
              </td>
            </tr>
          ))}
        </Table>
      ) : (
        <EmptyState title="No CLI run yet.">
          <p class="muted">A run repairs the instance from inside with the CLI, then ends.</p>
        </EmptyState>
      )}
      <p class="small">
        <a href={`/admin/cli-runs?q=${p.instanceId}`}>All runs of this instance →</a>
      </p>
    </div>
  );
}
