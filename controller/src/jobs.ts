// Runs and sessions share one life: a record in the store, a process group writing to its
// log, and an end (exit, cancel, maximum duration, controller stop or restart) decided once.
// The first end wins; a later one (the process exiting after a cancel) changes nothing but
// `outputClosed`, which turns true when no process of the group is left to write.
import {
  appendFileSync,
  chmodSync,
  closeSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { CommandSpec } from './config.ts';
import type { Log } from './log.ts';
import { bootId, groupAlive, launch, processStart, stopGroup } from './process-group.ts';
import type { JobKind, JobRecord, Store } from './store.ts';
import { expand, promptDelivery } from './template.ts';

export type StartJob = {
  record: JobRecord;
  spec: CommandSpec;
  prompt: string;
  /** Placeholders besides `{prompt}`/`{promptFile}`, also passed as FLEETWARDEN_* env. */
  values: Record<string, string>;
  maxDurationMs: number;
};

type Ending = Pick<JobRecord, 'status' | 'exitCode' | 'reason'>;

const LIVE = new Set<JobRecord['status']>(['starting', 'running']);
export const isLive = (r: JobRecord) => LIVE.has(r.status);
const noun = (kind: JobKind) => (kind === 'run' ? 'CLI run' : 'session');
const at = (kind: JobKind, id: string) => `${kind}:${id}`;

export function createJobs(deps: { store: Store; log: Log; graceMs: number; token: string }) {
  const { store, log } = deps;
  const records = new Map<string, JobRecord>();
  /** `kind:Idempotency-Key` → record id. */
  const keys = new Map<string, string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const boot = bootId();

  const save = (r: JobRecord) => {
    try {
      store.save(r);
    } catch (error) {
      // The answer already went out, or goes out as a 500: the state in memory stays right
      // until the controller restarts.
      log.error('store.write_failed', { kind: r.kind, id: r.id, error });
    }
  };

  /** A line of ours at the end of the output, so the reason shows where the output is read. */
  function note(r: JobRecord, text: string): void {
    const path = store.logPath(r.kind, r.id);
    const size = store.logSize(r.kind, r.id);
    let newline = '';
    if (size > 0) {
      const fd = openSync(path, 'r');
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      closeSync(fd);
      if (last[0] !== 0x0a) newline = '\n';
    }
    appendFileSync(path, `${newline}[fleetwarden-controller] ${text}\n`);
  }

  /** Ends `r` unless it has ended already; true when this call ended it. */
  function end(r: JobRecord, ending: Ending, noted = true): boolean {
    if (!isLive(r)) return false;
    Object.assign(r, ending, { endedAt: new Date().toISOString() });
    clearTimeout(timers.get(at(r.kind, r.id)));
    timers.delete(at(r.kind, r.id));
    if (noted && r.reason) note(r, r.reason);
    save(r);
    log.info(`${r.kind}.ended`, {
      id: r.id,
      status: r.status,
      exitCode: r.exitCode,
      reason: r.reason,
    });
    return true;
  }

  const settling = new Map<string, Promise<void>>();
  /**
   * Stops what is left of `r`'s group, then marks its output closed. Once per record: the
   * exit that a cancel's SIGKILL causes joins the cancel's stop instead of starting another
   * grace period.
   */
  function settle(r: JobRecord): Promise<void> {
    const id = at(r.kind, r.id);
    let done = settling.get(id);
    if (!done) {
      done = stopAndClose(r).finally(() => settling.delete(id));
      settling.set(id, done);
    }
    return done;
  }

  async function stopAndClose(r: JobRecord): Promise<void> {
    if (r.pid !== null && !(await stopGroup(r.pid, deps.graceMs)))
      log.error(`${r.kind}.group_survived_sigkill`, { id: r.id, pgid: r.pid });
    rmSync(store.promptPath(r.kind, r.id), { force: true });
    if (!r.outputClosed) {
      r.outputClosed = true;
      save(r);
    }
  }

  function childEnv(spec: CommandSpec, values: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && v !== deps.token && k !== 'FLEETWARDEN_CONTROLLER_TOKEN') env[k] = v;
    for (const [k, v] of Object.entries(values))
      env[`FLEETWARDEN_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] = v;
    return { ...env, ...spec.env };
  }

  return {
    get: (kind: JobKind, id: string) => records.get(at(kind, id)),
    byKey: (kind: JobKind, key: string) => {
      const id = keys.get(at(kind, key));
      return id === undefined ? undefined : records.get(at(kind, id));
    },
    /** Every record (for the one-live-run rule and for pruning). */
    all: () => records.values(),

    /**
     * Registers `job.record` (synchronously, so two starts with one key cannot both pass
     * the caller's look-up) and spawns its command. A command that cannot be spawned ends
     * the record `failed` with the reason a moment later ('error' event).
     */
    start(job: StartJob): JobRecord {
      const r = job.record;
      records.set(at(r.kind, r.id), r);
      if (r.idempotencyKey !== null) keys.set(at(r.kind, r.idempotencyKey), r.id);
      const promptFile = store.promptPath(r.kind, r.id);
      const delivery = promptDelivery(job.spec.command);
      if (delivery === 'file') {
        writeFileSync(promptFile, job.prompt, { mode: 0o600 });
        chmodSync(promptFile, 0o600);
      }
      writeFileSync(store.logPath(r.kind, r.id), '', { flag: 'a' });
      const argv = expand(job.spec.command, { ...job.values, prompt: job.prompt, promptFile });
      const child = launch({
        argv,
        cwd: job.spec.cwd,
        env: childEnv(job.spec, job.values),
        stdin: delivery === 'stdin' ? job.prompt : null,
        logPath: store.logPath(r.kind, r.id),
      });
      if (child.pid !== undefined) {
        r.pid = child.pid;
        r.pidStart = processStart(child.pid);
        r.bootId = boot;
        r.status = 'running';
      }
      save(r);
      log.info(`${r.kind}.started`, {
        id: r.id,
        pid: r.pid,
        promptBytes: Buffer.byteLength(job.prompt),
      });
      child.once('error', (error) => {
        if (r.pid !== null) return log.warn(`${r.kind}.process_error`, { id: r.id, error });
        end(r, {
          status: 'failed',
          exitCode: null,
          reason: `could not start ${argv[0]}: ${error.message}`,
        });
        void settle(r);
      });
      child.once('exit', (code, signal) => {
        end(
          r,
          {
            status: code === 0 ? 'completed' : 'failed',
            exitCode: code,
            reason: code === 0 ? null : signal ? `killed by ${signal}` : `exited with code ${code}`,
          },
          // An exit code is the command's own word; a signal from elsewhere (the OOM killer) is news.
          signal !== null,
        );
        // The command's leftovers (background children) go with it.
        void settle(r);
      });
      const maxS = job.maxDurationMs / 1000;
      const timer = setTimeout(() => {
        if (
          end(r, {
            status: 'failed',
            exitCode: null,
            reason: `ran past its maximum duration of ${maxS} s and was stopped`,
          })
        )
          void settle(r);
      }, job.maxDurationMs);
      timers.set(at(r.kind, r.id), timer);
      return r;
    },

    /** Cancels a live record (SIGTERM to its group, SIGKILL after the grace period). */
    cancel(r: JobRecord): JobRecord {
      if (end(r, { status: 'cancelled', exitCode: null, reason: 'cancelled by the control plane' }))
        void settle(r);
      return r;
    },

    /**
     * Loads the stored records. One still live, or whose group may still write, lost its
     * controller: it ends `failed` saying so, and what is left of its process group (same
     * boot, same process) is stopped.
     */
    async recover(): Promise<void> {
      const orphans: Promise<void>[] = [];
      for (const kind of ['run', 'session'] as const)
        for (const r of store.loadAll(kind, (path, error) =>
          log.error('store.unreadable', { path, error }),
        )) {
          records.set(at(kind, r.id), r);
          if (r.idempotencyKey !== null) keys.set(at(kind, r.idempotencyKey), r.id);
          if (r.outputClosed && !isLive(r)) continue;
          const ours =
            r.pid !== null &&
            r.bootId === boot &&
            (processStart(r.pid) ?? r.pidStart) === r.pidStart;
          const running = ours && groupAlive(r.pid as number);
          end(r, {
            status: 'failed',
            exitCode: null,
            reason: `the controller restarted while this ${noun(kind)} was live; ${running ? 'its process was stopped' : 'its process had ended with it'}`,
          });
          if (!ours) r.pid = null;
          orphans.push(settle(r));
        }
      await Promise.all(orphans);
    },

    /** Ends every live record `failed` with `reason` and stops its group (controller stop). */
    async stopAll(reason: (kind: JobKind) => string): Promise<void> {
      const stopping: Promise<void>[] = [];
      for (const r of records.values())
        if (end(r, { status: 'failed', exitCode: null, reason: reason(r.kind) }))
          stopping.push(settle(r));
      await Promise.all(stopping);
    },

    /** Deletes ended records older than `days` with their logs. */
    prune(days: number): number {
      const before = Date.now() - days * 86_400_000;
      let n = 0;
      for (const r of [...records.values()])
        if (!isLive(r) && r.outputClosed && r.endedAt && Date.parse(r.endedAt) < before) {
          store.remove(r.kind, r.id);
          records.delete(at(r.kind, r.id));
          if (r.idempotencyKey !== null) keys.delete(at(r.kind, r.idempotencyKey));
          n++;
        }
      return n;
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
