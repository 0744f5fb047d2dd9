import { StatusBadge } from '../components/badge.tsx';

/** What the console shows of a run (src/cli-runs' row, as the route hands it over). */
export type CliRunView = {
  id: string;
  instanceId: string;
  instanceName: string;
  userEmail: string;
  prompt: string;
  status: string;
  initiatedBy: 'user' | 'admin';
  initiatedByLabel: string;
  exitCode: number | null;
  lastError: string | null;
  outputTail: string;
  outputSize: number;
  /** Bytes the controller last reported; with `outputCutReason`, more than was read. */
  outputReportedSize?: number;
  /** Why the run ended with output unread (null: all of it was read). */
  outputCutReason?: string | null;
  /** What an ended run still owes its controller (`pending`: a cancel not confirmed yet). */
  cleanup?: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
};

export const isLiveRun = (r: Pick<CliRunView, 'status'>) =>
  r.status === 'starting' || r.status === 'running';

/** The run's outcome in a few words: its status, and the exit code when there is one. */
export function Outcome({ run }: { run: CliRunView }) {
  return (
    <>
      <StatusBadge status={run.status} />
      {run.exitCode !== null ? <span class="small muted"> exit {run.exitCode}</span> : null}
    </>
  );
}

/** An Admin badge and "Initiated by {label}" for admin runs; "User" for the user's own. */
export function Initiator({ run }: { run: CliRunView }) {
  return run.initiatedBy === 'admin' ? (
    <>
      <span class="badge badge-admin">Admin</span>{' '}
      <span class="small">Initiated by {run.initiatedByLabel}</span>
    </>
  ) : (
    <span class="small muted">User</span>
  );
}

/** The first line of a prompt, cut to `max` characters. */
export const promptLine = (prompt: string, max = 80) => {
  const line = prompt.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * The output, streamed while the run is live: app.js opens an EventSource on `stream` and
 * appends each chunk (see routes/admin/cli-runs.tsx), then reloads the page when it ends.
 */
export function OutputBlock({ run, stream }: { run: CliRunView; stream: string | null }) {
  return (
    <>
      <pre
        class="cli-output"
        id={`cli-output-${run.id}`}
        data-cli-output=""
        {...(stream
          ? {
              'data-cli-stream': stream,
              'data-cli-after': String(run.outputSize),
              'data-cli-bytes': `cli-bytes-${run.id}`,
            }
          : {})}
      >
        {run.outputTail}
      </pre>
      <p class="small muted">
        {run.outputSize > new TextEncoder().encode(run.outputTail).length
          ? 'The last 64 KiB of '
          : ''}
        {/* app.js keeps the count current as output streams in. */}
        <span id={`cli-bytes-${run.id}`}>{run.outputSize}</span> bytes.
        {stream ? ' Live: new output appears as it arrives.' : ''}
      </p>
      {run.outputCutReason ? (
        <p class="small" data-output-cut="">
          {`${Math.max(0, (run.outputReportedSize ?? run.outputSize) - run.outputSize)} more bytes were written and never read: ${run.outputCutReason}.`}
        </p>
      ) : null}
      {run.cleanup === 'pending' ? (
        <p class="small" data-cleanup="pending">
          The instance's controller has not confirmed the cancel yet: it is sent again until it does
          or the machine is gone.
        </p>
      ) : null}
    </>
  );
}
