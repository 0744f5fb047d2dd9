// CLI runs (startCliRun, getCliRun, getCliRunOutput, cancelCliRun): the operator's command
// with the prompt, one live at a time, idempotent by `Idempotency-Key` (contract 1.1).
import { createHash, randomUUID } from 'node:crypto';
import type { ControllerConfig } from './config.ts';
import { HttpError } from './http.ts';
import { isLive, type Jobs } from './jobs.ts';
import { readPage } from './output.ts';
import type { JobRecord, Store } from './store.ts';

const hash = (prompt: string) => createHash('sha256').update(prompt, 'utf8').digest('hex');

/** The contract's CliRun: `starting` reads `running`; `reason` says why it failed or was cancelled. */
export function cliRunView(r: JobRecord, outputSize: number) {
  return {
    runId: r.id,
    status: r.status === 'starting' ? 'running' : r.status,
    exitCode: r.exitCode,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    outputSize,
    reason: r.reason,
  };
}

export function createCliRuns(deps: { jobs: Jobs; store: Store; config: ControllerConfig }) {
  const { jobs, store } = deps;
  const find = (runId: string) => {
    const r = jobs.get('run', runId);
    if (!r) throw new HttpError(404, 'not_found', `no CLI run ${runId} on this controller`);
    return r;
  };
  const view = (r: JobRecord) => cliRunView(r, store.logSize('run', r.id));

  return {
    /**
     * A key seen before answers its run (`replayed`, whatever its status) or 422 for another
     * prompt, before the one-live-run check; then 409 naming the live run; else a new run.
     */
    start(input: { prompt: string; key: string | null }): { run: JobRecord; replayed: boolean } {
      const seen = input.key === null ? undefined : jobs.byKey('run', input.key);
      if (seen) {
        if (seen.requestHash !== hash(input.prompt))
          throw new HttpError(
            422,
            'idempotency_key_reused',
            'this Idempotency-Key started a CLI run with another prompt',
          );
        return { run: seen, replayed: true };
      }
      for (const r of jobs.all())
        if (r.kind === 'run' && isLive(r))
          throw new HttpError(409, 'run_live', `CLI run ${r.id} is live`, { liveRunId: r.id });
      const cli = deps.config.cliRun;
      if (!cli)
        throw new HttpError(
          400,
          'invalid_request',
          'no CLI-run command is configured on this machine',
        );
      const id = randomUUID();
      const run = jobs.start({
        record: {
          kind: 'run',
          id,
          idempotencyKey: input.key,
          requestHash: hash(input.prompt),
          status: 'starting',
          exitCode: null,
          startedAt: new Date().toISOString(),
          endedAt: null,
          reason: null,
          pid: null,
          pidStart: null,
          bootId: null,
          outputClosed: false,
        },
        spec: cli,
        prompt: input.prompt,
        values: { runId: id },
        maxDurationMs: cli.maxDurationMs,
      });
      return { run, replayed: false };
    },
    get: (runId: string) => view(find(runId)),
    cancel: (runId: string) => view(jobs.cancel(find(runId))),
    /** `complete` once the run ended, no process of it can write, and all was read. */
    output(runId: string, after: number) {
      const r = find(runId);
      // Read before the size, so bytes written in between are not missed by `complete`.
      const closed = !isLive(r) && r.outputClosed;
      const size = store.logSize('run', r.id);
      const page = readPage(store.logPath('run', r.id), size, after, closed);
      return { runId: r.id, ...page, complete: closed && page.nextOffset >= size };
    },
  };
}

export type CliRuns = ReturnType<typeof createCliRuns>;
