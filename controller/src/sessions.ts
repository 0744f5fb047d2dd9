// Agent sessions (startSession, getSession, cancelSession): the operator's command for the
// agent, any number at once, idempotent by their required `Idempotency-Key`.
import { createHash, randomUUID } from 'node:crypto';
import type { ControllerConfig } from './config.ts';
import { HttpError } from './http.ts';
import type { Jobs } from './jobs.ts';
import type { JobRecord } from './store.ts';
import type { Trigger } from './validate.ts';

type StartSession = { agentId: string; prompt: string; trigger: Trigger; key: string };

const hash = (s: Omit<StartSession, 'key'>) =>
  createHash('sha256')
    .update(JSON.stringify([s.agentId, s.prompt, s.trigger]), 'utf8')
    .digest('hex');

const STATUS = { starting: 'creating', running: 'ready' } as const;

/** The contract's Session: `creating` until its process spawned, then `ready` until it ends. */
export function sessionView(r: JobRecord) {
  return {
    sessionId: r.id,
    agentId: r.agentId ?? '',
    trigger: r.trigger ?? 'api',
    status: r.status === 'starting' || r.status === 'running' ? STATUS[r.status] : r.status,
    createdAt: r.startedAt,
    endedAt: r.endedAt,
    reason: r.reason,
  };
}

export function createSessions(deps: { jobs: Jobs; config: ControllerConfig }) {
  const { jobs } = deps;
  const find = (id: string) => {
    const r = jobs.get('session', id);
    if (!r) throw new HttpError(404, 'not_found', `no session ${id} on this controller`);
    return r;
  };
  return {
    /** A key seen before answers its session (`replayed`) or 422 for another body; else a new one. */
    start(input: StartSession): { session: JobRecord; replayed: boolean } {
      const seen = jobs.byKey('session', input.key);
      if (seen) {
        if (seen.requestHash !== hash(input))
          throw new HttpError(
            422,
            'idempotency_key_reused',
            'this Idempotency-Key started a session with another agent, prompt or trigger',
          );
        return { session: seen, replayed: true };
      }
      const { sessions } = deps.config;
      const spec = sessions.agents[input.agentId] ?? sessions.default;
      if (!spec)
        throw new HttpError(
          400,
          'invalid_request',
          `no session command is configured for agent ${input.agentId}`,
        );
      const id = randomUUID();
      const session = jobs.start({
        record: {
          kind: 'session',
          id,
          idempotencyKey: input.key,
          requestHash: hash(input),
          status: 'starting',
          exitCode: null,
          startedAt: new Date().toISOString(),
          endedAt: null,
          reason: null,
          pid: null,
          pidStart: null,
          bootId: null,
          outputClosed: false,
          agentId: input.agentId,
          trigger: input.trigger,
        },
        spec,
        prompt: input.prompt,
        values: { sessionId: id, agentId: input.agentId, trigger: input.trigger },
        maxDurationMs: sessions.maxDurationMs,
      });
      return { session, replayed: false };
    },
    get: (id: string) => sessionView(find(id)),
    cancel: (id: string) => sessionView(jobs.cancel(find(id))),
  };
}

export type Sessions = ReturnType<typeof createSessions>;
