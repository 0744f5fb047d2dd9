// The simulated instance controller's runs and sessions (docs/controller-openapi.yaml). They
// live in memory, per machine, as a real controller's do: a machine that stops, restarts or
// is replaced forgets them and its sessions' idempotency keys (store.ts calls `forget`), and
// so does the `forget_runs` fault.
// Status and output are computed from the clock when read: no timers.
import { parseGoDurationMs } from '../qstash-emulator/durations.ts';

/** What a `#sim ` prompt may set; every duration is simulated time (× the time scale). */
export type RunBehaviour = { durationMs: number; lines: number; exitCode: number; width: number };

/** Without directives a run takes about 3 s, prints 5 lines and exits 0. */
export const DEFAULT_RUN: RunBehaviour = { durationMs: 3000, lines: 5, exitCode: 0, width: 48 };
/** A session is `creating` for its first tenth, then `ready`, then ends (default 5 s). */
export const DEFAULT_SESSION_MS = 5000;

const LIMITS = { lines: 100_000, exitCode: 255, width: 10_000, durationMs: 24 * 3_600_000 };

/**
 * Reads `#sim key=value …` at the start of a prompt (the first line only): `duration` (a Go
 * duration: `500ms`, `30s`, `2m`), `lines`, `exit`, `width` (characters per line). Returns
 * the behaviour, or an error naming the first bad directive. A prompt without `#sim ` gets
 * `defaults` unchanged.
 */
export function parseDirectives(
  prompt: string,
  defaults: RunBehaviour,
): { ok: true; behaviour: RunBehaviour } | { ok: false; error: string } {
  if (!prompt.startsWith('#sim ')) return { ok: true, behaviour: defaults };
  const behaviour = { ...defaults };
  const words = (prompt.split('\n')[0] ?? '').slice('#sim '.length).trim().split(/\s+/);
  for (const word of words.filter(Boolean)) {
    const [key, value = ''] = word.split('=', 2);
    const int = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (key === 'duration') {
      const ms = parseGoDurationMs(value);
      if (ms === null || ms > LIMITS.durationMs)
        return { ok: false, error: `#sim duration: "${value}" is not a duration up to 24h` };
      behaviour.durationMs = ms;
    } else if (key === 'lines' || key === 'exit' || key === 'width') {
      const max = key === 'exit' ? LIMITS.exitCode : LIMITS[key];
      if (!(int >= (key === 'width' ? 1 : 0) && int <= max))
        return { ok: false, error: `#sim ${key}: "${value}" must be a whole number up to ${max}` };
      if (key === 'exit') behaviour.exitCode = int;
      else behaviour[key] = int;
    } else
      return {
        ok: false,
        error: `#sim: unknown directive "${word}" (duration, lines, exit, width)`,
      };
  }
  return { ok: true, behaviour };
}

type SimRun = RunBehaviour & {
  runId: string;
  /** The start's `Idempotency-Key` (null: started without one) and its prompt. */
  key: string | null;
  prompt: string;
  startedAt: number;
  cancelledAt: number | null;
};
type SimSession = {
  sessionId: string;
  /** The start's `Idempotency-Key` and what it asked for (a replay must ask the same). */
  key: string;
  prompt: string;
  agentId: string;
  trigger: 'api' | 'cron' | 'manual';
  createdAt: number;
  durationMs: number;
  fails: boolean;
  cancelledAt: number | null;
};

const encoder = new TextEncoder();
/** Output pages are at most this many bytes (the contract's 64 KiB). */
export const OUTPUT_PAGE_BYTES = 65_536;

/** One output line; ASCII, so characters and UTF-8 bytes agree. */
function line(run: SimRun, i: number): string {
  const head = `[sim ${run.runId.slice(0, 8)}] step ${i + 1}/${run.lines}`;
  return `${head} ${'.'.repeat(Math.max(0, run.width - head.length - 1))}\n`;
}

export function createControllerRuns(scaled: (ms: number) => number) {
  const machines = new Map<
    string,
    {
      runs: Map<string, SimRun>;
      /** `Idempotency-Key` → the run its first start created. */
      runKeys: Map<string, SimRun>;
      sessions: Map<string, SimSession>;
      /** `Idempotency-Key` → the session its first start created. */
      keys: Map<string, SimSession>;
    }
  >();
  const on = (machineId: string) => {
    let m = machines.get(machineId);
    if (!m) {
      m = { runs: new Map(), runKeys: new Map(), sessions: new Map(), keys: new Map() };
      machines.set(machineId, m);
    }
    return m;
  };

  function endOf(run: SimRun): number {
    return run.cancelledAt ?? run.startedAt + scaled(run.durationMs);
  }
  function runView(run: SimRun, now: number) {
    const ended = run.cancelledAt !== null || now >= endOf(run);
    const status =
      run.cancelledAt !== null
        ? ('cancelled' as const)
        : !ended
          ? ('running' as const)
          : run.exitCode === 0
            ? ('completed' as const)
            : ('failed' as const);
    return {
      runId: run.runId,
      status,
      exitCode: status === 'completed' || status === 'failed' ? run.exitCode : null,
      startedAt: new Date(run.startedAt).toISOString(),
      endedAt: ended ? new Date(endOf(run)).toISOString() : null,
      outputSize: encoder.encode(output(run, now)).length,
    };
  }
  /** The text written by `now`: line i appears at (i+1)/lines of the duration. */
  function output(run: SimRun, now: number): string {
    const total = scaled(run.durationMs);
    const elapsed = Math.min(now, endOf(run)) - run.startedAt;
    const shown =
      total <= 0 || elapsed >= total
        ? run.lines
        : Math.min(run.lines, Math.floor((run.lines * Math.max(0, elapsed)) / total));
    let text = '';
    for (let i = 0; i < shown; i++) text += line(run, i);
    return text;
  }
  function sessionView(s: SimSession, now: number) {
    const end = s.cancelledAt ?? s.createdAt + scaled(s.durationMs);
    const status =
      s.cancelledAt !== null
        ? ('cancelled' as const)
        : now >= end
          ? s.fails
            ? ('failed' as const)
            : ('completed' as const)
          : now >= s.createdAt + scaled(s.durationMs) / 10
            ? ('ready' as const)
            : ('creating' as const);
    const ended = status === 'cancelled' || status === 'failed' || status === 'completed';
    return {
      sessionId: s.sessionId,
      agentId: s.agentId,
      trigger: s.trigger,
      status,
      createdAt: new Date(s.createdAt).toISOString(),
      endedAt: ended ? new Date(end).toISOString() : null,
    };
  }

  return {
    /**
     * Starts a run, or names the live one. With a `key` seen before, nothing starts: the
     * key's run is answered (`replayed`), or `reused` when that start had another prompt.
     */
    start(
      machineId: string,
      input: { key: string | null; prompt: string; behaviour: RunBehaviour },
      now: number,
    ) {
      const m = on(machineId);
      const seen = input.key === null ? undefined : m.runKeys.get(input.key);
      if (seen)
        return seen.prompt === input.prompt
          ? { outcome: 'replayed' as const, run: runView(seen, now) }
          : { outcome: 'reused' as const };
      for (const run of m.runs.values())
        if (runView(run, now).status === 'running')
          return { outcome: 'live' as const, liveRunId: run.runId };
      const run: SimRun = {
        ...input.behaviour,
        key: input.key,
        prompt: input.prompt,
        runId: crypto.randomUUID(),
        startedAt: now,
        cancelledAt: null,
      };
      m.runs.set(run.runId, run);
      if (input.key !== null) m.runKeys.set(input.key, run);
      return { outcome: 'started' as const, run: runView(run, now) };
    },
    get(machineId: string, runId: string, now: number) {
      const run = machines.get(machineId)?.runs.get(runId);
      return run ? runView(run, now) : null;
    },
    /** Output from byte `after`, at most one page, cut at a line end where one fits. */
    output(machineId: string, runId: string, after: number, now: number) {
      const run = machines.get(machineId)?.runs.get(runId);
      if (!run) return null;
      const bytes = encoder.encode(output(run, now));
      const from = Math.min(after, bytes.length);
      const page = bytes.subarray(from, from + OUTPUT_PAGE_BYTES);
      const text = new TextDecoder().decode(page);
      const ended = runView(run, now).status !== 'running';
      const next = from + page.length;
      return {
        runId,
        chunks: text ? [{ offset: from, text }] : [],
        nextOffset: next,
        complete: ended && next >= bytes.length,
      };
    },
    cancel(machineId: string, runId: string, now: number) {
      const run = machines.get(machineId)?.runs.get(runId);
      if (!run) return null;
      if (runView(run, now).status === 'running') run.cancelledAt = now;
      return runView(run, now);
    },
    /**
     * Starts a session for `key`, however many the agent has live; a key seen before answers
     * its session (`replayed`), or `reused` when that start asked for something else.
     */
    startSession(
      machineId: string,
      key: string,
      input: {
        agentId: string;
        prompt: string;
        trigger: SimSession['trigger'];
        durationMs: number;
        fails: boolean;
      },
      now: number,
    ) {
      const m = on(machineId);
      const seen = m.keys.get(key);
      if (seen) {
        const same =
          seen.agentId === input.agentId &&
          seen.prompt === input.prompt &&
          seen.trigger === input.trigger;
        return same
          ? { outcome: 'replayed' as const, session: sessionView(seen, now) }
          : { outcome: 'reused' as const, session: null };
      }
      const s: SimSession = {
        ...input,
        key,
        sessionId: crypto.randomUUID(),
        createdAt: now,
        cancelledAt: null,
      };
      m.sessions.set(s.sessionId, s);
      m.keys.set(key, s);
      return { outcome: 'started' as const, session: sessionView(s, now) };
    },
    getSession(machineId: string, sessionId: string, now: number) {
      const s = machines.get(machineId)?.sessions.get(sessionId);
      return s ? sessionView(s, now) : null;
    },
    cancelSession(machineId: string, sessionId: string, now: number) {
      const s = machines.get(machineId)?.sessions.get(sessionId);
      if (!s) return null;
      if (sessionView(s, now).endedAt === null) s.cancelledAt = now;
      return sessionView(s, now);
    },
    /** The machine's controller restarted: every run and session is gone. */
    forget(machineId: string) {
      machines.delete(machineId);
    },
    /**
     * Every machine's runs and sessions as they are now (`GET /_controller-state`), for
     * tests and demos to compare with what the control plane recorded.
     */
    state(now: number) {
      return [...machines.entries()].map(([machineId, m]) => ({
        machineId,
        runs: [...m.runs.values()].map((r) => ({ ...runView(r, now), idempotencyKey: r.key })),
        sessions: [...m.sessions.values()].map((s) => ({
          ...sessionView(s, now),
          idempotencyKey: s.key,
        })),
      }));
    },
  };
}

export type ControllerRuns = ReturnType<typeof createControllerRuns>;
