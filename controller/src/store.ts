// The file store: one JSON file per run or session, beside its output log, under the data
// folder (`<dataDir>/runs/<id>.json`, `<id>.log`; `sessions/` likewise). A record is
// replaced whole by writing a temporary file and renaming it over the old one, so a
// controller killed mid-write leaves the old record or the new one, never half of one.
// Writes are synchronous: a few small files per run, and strictly in order.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export type JobKind = 'run' | 'session';

/**
 * One run or session as stored. `status` `starting` is a session's `creating` (a run reads
 * `running`); `outputClosed` turns true once no process of its group is left to write.
 */
export type JobRecord = {
  kind: JobKind;
  id: string;
  /** The start's `Idempotency-Key`; null for a run started without one. */
  idempotencyKey: string | null;
  /** SHA-256 of what the start asked for: a replay must ask the same (the prompt is not kept). */
  requestHash: string;
  status: 'starting' | 'running' | 'completed' | 'failed' | 'cancelled';
  exitCode: number | null;
  /** RFC 3339 UTC. */
  startedAt: string;
  endedAt: string | null;
  /** Why it failed or was cancelled, in words (also the log's last line). */
  reason: string | null;
  /** The process group (its leader's pid), with what tells that pid apart after a restart. */
  pid: number | null;
  pidStart: string | null;
  bootId: string | null;
  outputClosed: boolean;
  /** Sessions only. */
  agentId?: string;
  trigger?: 'api' | 'cron' | 'manual';
};

const folder = (kind: JobKind) => (kind === 'run' ? 'runs' : 'sessions');

export function createStore(dataDir: string) {
  const dir = (kind: JobKind) => join(dataDir, folder(kind));
  for (const kind of ['run', 'session'] as const) mkdirSync(dir(kind), { recursive: true });
  const file = (kind: JobKind, id: string, ext: string) => join(dir(kind), `${id}.${ext}`);

  return {
    dataDir,
    logPath: (kind: JobKind, id: string) => file(kind, id, 'log'),
    promptPath: (kind: JobKind, id: string) => file(kind, id, 'prompt'),
    /** Replaces the record atomically (write, then rename). */
    save(record: JobRecord): void {
      const path = file(record.kind, record.id, 'json');
      writeFileSync(`${path}.tmp`, JSON.stringify(record));
      renameSync(`${path}.tmp`, path);
    },
    /** Every stored record of `kind`; unreadable files are passed to `skip` and left alone. */
    loadAll(kind: JobKind, skip: (path: string, error: unknown) => void): JobRecord[] {
      const out: JobRecord[] = [];
      for (const name of readdirSync(dir(kind))) {
        if (!name.endsWith('.json')) continue;
        const path = join(dir(kind), name);
        try {
          out.push(JSON.parse(readFileSync(path, 'utf8')) as JobRecord);
        } catch (error) {
          skip(path, error);
        }
      }
      return out;
    },
    /** Bytes in the output log (0 before the process wrote any). */
    logSize(kind: JobKind, id: string): number {
      try {
        return statSync(file(kind, id, 'log')).size;
      } catch {
        return 0;
      }
    },
    /** Deletes a record with its log and prompt file. */
    remove(kind: JobKind, id: string): void {
      for (const ext of ['json', 'log', 'prompt']) rmSync(file(kind, id, ext), { force: true });
    },
  };
}

export type Store = ReturnType<typeof createStore>;
