import type { SessionTrigger } from '../../db/schema/index.ts';

/**
 * What firing needs of the instance controller (the process on each instance that runs
 * agent sessions: `POST /_controller/sessions`, `GET /_controller/sessions/{id}`,
 * `POST /_controller/sessions/{id}/cancel`). The adapter in src/adapters/controller/ speaks
 * its HTTP; tests hand in a fake.
 */
export type SessionController = {
  /**
   * Starts a session. `idempotencyKey` is our session id: asking twice for one key starts
   * one session. Throws {@link InstanceNotRunning} when the instance cannot take sessions,
   * another error when the call failed.
   */
  start(target: ControllerTarget, input: StartSession): Promise<ControllerSession>;
  /** The session as the controller has it now. */
  get(target: ControllerTarget, sessionId: string): Promise<ControllerSession>;
  /** Cancels a live session; a finished or unknown one is left as it is. */
  cancel(target: ControllerTarget, sessionId: string): Promise<void>;
};

/** Which instance's controller to talk to (its Fly app and machine). */
export type ControllerTarget = {
  instanceId: string;
  appName: string;
  machineId: string | null;
};

export type StartSession = {
  agentId: string;
  prompt: string;
  trigger: SessionTrigger;
  idempotencyKey: string;
};

/** A controller session's state, in the words of DESIGN.md's agent-session machine. */
export type ControllerSession = {
  id: string;
  status: 'creating' | 'ready' | 'completed' | 'failed';
  error: string | null;
};

/** The instance is not running (stopped, busy, or its machine gone): the fire is skipped. */
export class InstanceNotRunning extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InstanceNotRunning';
  }
}

/** Until an instance controller client is wired: every start fails, saying so. */
export const unwiredController: SessionController = {
  start: async () => {
    throw new Error('no instance controller client is configured');
  },
  get: async () => {
    throw new Error('no instance controller client is configured');
  },
  cancel: async () => {},
};
