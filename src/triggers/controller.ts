import type { SessionTrigger } from '../../db/schema/index.ts';
import type { ControllerClient } from '../adapters/controller/client.ts';
import { ControllerError } from '../adapters/controller/errors.ts';

/**
 * What firing needs of an instance's controller (docs/controller-openapi.yaml:
 * `POST /_controller/sessions`, `GET /_controller/sessions/{id}`,
 * `POST /_controller/sessions/{id}/cancel`), in the words of DESIGN.md's agent-session
 * machine. {@link sessionControllerFrom} builds it over the controller client
 * (src/adapters/controller/); tests may hand the app a fake client.
 */
export type SessionController = {
  /**
   * Starts a session, keyed by `idempotencyKey` (our `agent_sessions` row id): a retry of a
   * start that timed out or failed ambiguously gets the session the first attempt started,
   * not a second one. Throws {@link InstanceNotRunning} when the instance has no machine,
   * else the controller client's error as it is (a 502/503 may be Fly's proxy finding no
   * started machine, or the controller's own answer after it acted: the caller looks).
   */
  start(target: ControllerTarget, input: StartSession): Promise<ControllerSession>;
  /** The session now; one the controller no longer knows (its machine restarted) is `failed`. */
  get(target: ControllerTarget, sessionId: string): Promise<ControllerSession>;
  /** Cancels a live session; a finished or unknown one is left as it is. */
  cancel(target: ControllerTarget, sessionId: string): Promise<void>;
};

/** Which instance's controller to talk to (its Fly app and machine). */
export type ControllerTarget = { instanceId: string; appName: string; machineId: string | null };

export type StartSession = {
  agentId: string;
  prompt: string;
  trigger: SessionTrigger;
  idempotencyKey: string;
};

export type ControllerSession = {
  id: string;
  status: 'creating' | 'ready' | 'completed' | 'failed';
  error: string | null;
};

/** The instance has no machine: nothing was asked, the fire is skipped. */
export class InstanceNotRunning extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InstanceNotRunning';
  }
}

const machineOf = (t: ControllerTarget) => {
  if (!t.machineId) throw new InstanceNotRunning('the instance has no machine');
  return { appName: t.appName, machineId: t.machineId, instanceId: t.instanceId };
};

type WireSession = Awaited<ReturnType<ControllerClient['getSession']>>;
const fromWire = (s: WireSession): ControllerSession => ({
  id: s.sessionId,
  status: s.status === 'cancelled' ? 'failed' : s.status,
  error: s.status === 'cancelled' ? 'cancelled on the instance' : null,
});

/**
 * The {@link SessionController} over the controller client. The client never retries; the
 * caller's next attempt of a start sends the same `Idempotency-Key`, so a start that timed
 * out but had started answers that session (a 200 replay, docs/controller-openapi.yaml).
 */
export function sessionControllerFrom(client: ControllerClient): SessionController {
  return {
    async start(target, input) {
      return fromWire(await client.startSession(machineOf(target), input));
    },
    async get(target, sessionId) {
      try {
        return fromWire(await client.getSession(machineOf(target), sessionId));
      } catch (err) {
        if (err instanceof ControllerError && err.kind === 'not_found')
          return {
            id: sessionId,
            status: 'failed',
            error: 'the instance controller no longer knows this session (its machine restarted)',
          };
        throw err;
      }
    },
    async cancel(target, sessionId) {
      try {
        await client.cancelSession(machineOf(target), sessionId);
      } catch (err) {
        if (err instanceof ControllerError && err.kind === 'not_found') return;
        throw err;
      }
    },
  };
}
