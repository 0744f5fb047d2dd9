import type { ControllerClient } from '../../src/adapters/controller/client.ts';
import { ControllerError } from '../../src/adapters/controller/errors.ts';
import type { ControllerSession, ControllerTarget } from '../../src/adapters/controller/types.ts';

type Session = ControllerSession & { prompt: string; target: ControllerTarget };

/**
 * An in-memory instance controller client for tests, answering as the contract says
 * (docs/controller-openapi.yaml): any number of sessions per agent, one per
 * `Idempotency-Key` (a key seen before answers its session, `replayed`), every call
 * counted, and switches for a stopped machine (`unreachable`), failing starts (502 →
 * `unreachable`, so use `server`) and a start that acts but times out.
 */
export function fakeController() {
  const sessions = new Map<string, Session>();
  const byKey = new Map<string, Session>();
  const calls = { start: 0, get: 0, cancel: [] as string[] };
  const stopped = new Set<string>();
  let failStarts = 0;
  let timeoutStarts = 0;
  let seq = 0;
  const wire = (s: Session): ControllerSession => ({
    sessionId: s.sessionId,
    agentId: s.agentId,
    trigger: s.trigger,
    status: s.status,
    createdAt: s.createdAt,
    endedAt: s.endedAt,
  });
  const unsupported = async (): Promise<never> => {
    throw new Error('CLI runs are not faked here');
  };
  const client: ControllerClient = {
    startCliRun: unsupported,
    getCliRun: unsupported,
    getCliRunOutput: unsupported,
    cancelCliRun: unsupported,
    async startSession(target, input) {
      calls.start++;
      if (stopped.has(target.instanceId))
        throw new ControllerError({
          kind: 'unreachable',
          status: 503,
          message: 'no started machine',
        });
      if (failStarts > 0) {
        failStarts--;
        throw new ControllerError({
          kind: 'server',
          status: 500,
          message: 'controller answered 500',
        });
      }
      const seen = byKey.get(input.idempotencyKey);
      if (seen) return { ...wire(seen), replayed: true };
      const s: Session = {
        sessionId: `cs_${++seq}`,
        agentId: input.agentId,
        trigger: input.trigger,
        status: 'ready',
        createdAt: new Date().toISOString(),
        endedAt: null,
        prompt: input.prompt,
        target,
      };
      sessions.set(s.sessionId, s);
      byKey.set(input.idempotencyKey, s);
      if (timeoutStarts > 0) {
        timeoutStarts--;
        throw new ControllerError({
          kind: 'timeout',
          status: 0,
          message: 'no answer within 10000 ms',
        });
      }
      return { ...wire(s), replayed: false };
    },
    async getSession(_target, id) {
      calls.get++;
      const s = sessions.get(id);
      if (!s)
        throw new ControllerError({ kind: 'not_found', status: 404, message: `no session ${id}` });
      return wire(s);
    },
    async cancelSession(_target, id) {
      calls.cancel.push(id);
      const s = sessions.get(id);
      if (!s)
        throw new ControllerError({ kind: 'not_found', status: 404, message: `no session ${id}` });
      if (s.status === 'creating' || s.status === 'ready') {
        s.status = 'cancelled';
        s.endedAt = new Date().toISOString();
      }
      return wire(s);
    },
  };
  return {
    client,
    calls,
    /** Ends a controller session. */
    finish(id: string, status: 'completed' | 'failed' = 'completed') {
      const s = sessions.get(id);
      if (!s) throw new Error(`no session ${id}`);
      s.status = status;
      s.endedAt = new Date().toISOString();
    },
    /** Forgets every session (the machine restarted). */
    restart: () => {
      sessions.clear();
      byKey.clear();
    },
    stopInstance: (id: string) => stopped.add(id),
    startInstance: (id: string) => stopped.delete(id),
    failNextStarts: (n: number) => {
      failStarts = n;
    },
    timeOutNextStarts: (n: number) => {
      timeoutStarts = n;
    },
    /** The agent of every session started, once per session. */
    startedAgents: () => [...sessions.values()].map((s) => s.agentId),
    /** Controller sessions started for an agent. */
    sessionsOf: (agentId: string) => [...sessions.values()].filter((s) => s.agentId === agentId),
  };
}
