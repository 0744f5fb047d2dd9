import {
  type ControllerSession,
  type ControllerTarget,
  InstanceNotRunning,
  type SessionController,
  type StartSession,
} from '../../src/triggers/controller.ts';

/**
 * An in-memory instance controller for tests: sessions keyed by idempotency key (asking twice
 * starts one), every call recorded, and switches to make an instance refuse (not running) or
 * a start fail.
 */
export function fakeController() {
  const sessions = new Map<
    string,
    ControllerSession & { input: StartSession; target: ControllerTarget }
  >();
  const byKey = new Map<string, string>();
  const calls = { start: 0, get: 0, cancel: [] as string[] };
  const notRunning = new Set<string>();
  let failStarts = 0;
  let seq = 0;
  const controller: SessionController = {
    async start(target, input) {
      calls.start++;
      if (notRunning.has(target.instanceId))
        throw new InstanceNotRunning('the controller does not answer: machine stopped');
      if (failStarts > 0) {
        failStarts--;
        throw new Error('controller answered 502');
      }
      const existing = byKey.get(input.idempotencyKey);
      if (existing) return pick(sessions.get(existing));
      const id = `cs_${++seq}`;
      sessions.set(id, { id, status: 'ready', error: null, input, target });
      byKey.set(input.idempotencyKey, id);
      return pick(sessions.get(id));
    },
    async get(_target, id) {
      calls.get++;
      const s = sessions.get(id);
      if (!s) throw new Error(`no session ${id}`);
      return pick(s);
    },
    async cancel(_target, id) {
      calls.cancel.push(id);
      const s = sessions.get(id);
      if (s && (s.status === 'creating' || s.status === 'ready')) s.status = 'failed';
    },
  };
  return {
    controller,
    calls,
    sessions,
    /** Ends a controller session (`completed` or `failed`). */
    finish(id: string, status: 'completed' | 'failed' = 'completed', error: string | null = null) {
      const s = sessions.get(id);
      if (!s) throw new Error(`no session ${id}`);
      s.status = status;
      s.error = error;
    },
    stopInstance: (id: string) => notRunning.add(id),
    startInstance: (id: string) => notRunning.delete(id),
    /** Controller sessions started for an agent. */
    sessionsOf: (agentId: string) =>
      [...sessions.values()].filter((s) => s.input.agentId === agentId),
    failNextStarts: (n: number) => {
      failStarts = n;
    },
    /** Distinct idempotency keys started (our session ids). */
    startedKeys: () => [...byKey.keys()],
  };
}

const pick = (s: (ControllerSession & object) | undefined): ControllerSession => {
  if (!s) throw new Error('missing session');
  return { id: s.id, status: s.status, error: s.error };
};
