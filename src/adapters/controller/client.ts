import type { z } from 'zod';
import { FLY_APP_NAME, pathSegment, rejectingOnBadIds } from '../outside-ids.ts';
import { ControllerError, kindForStatus } from './errors.ts';
import { controllerToken } from './token.ts';
import {
  CliRunOutput,
  CliRunStarted,
  ControllerCliRun,
  ControllerErrorBody,
  ControllerSession,
  type ControllerTarget,
  type SessionTrigger,
} from './types.ts';

/**
 * The instance controller's API (docs/controller-openapi.yaml) on one machine. Every method
 * throws a {@link ControllerError} on failure and never retries: the callers (the CLI-run
 * follow loop, the triggers) try again on their own schedule. Starts are idempotent by
 * their `Idempotency-Key`, so a caller resolves a start whose answer was lost by sending it
 * again with the same key.
 */
export type ControllerClient = {
  /**
   * `POST /_controller/cli-runs`, with `Idempotency-Key: <idempotencyKey>` when given
   * (contract 1.1; fleetwarden sends its `cli_runs` row id). A new key starts a run (201); a
   * key the controller already started one with answers that run (200, `replayed: true`)
   * and starts nothing; the same key with another prompt is 422 (`rejected`). 409
   * `conflict` with `liveId` when another run is live.
   */
  startCliRun(
    target: ControllerTarget,
    input: { prompt: string; idempotencyKey?: string },
  ): Promise<CliRunStarted & { replayed: boolean }>;
  /** `GET /_controller/cli-runs/{runId}`; 404 `not_found` for a run it does not know. */
  getCliRun(target: ControllerTarget, runId: string): Promise<ControllerCliRun>;
  /** `GET /_controller/cli-runs/{runId}/output?after=<byte offset>` (at most 64 KiB). */
  getCliRunOutput(target: ControllerTarget, runId: string, after: number): Promise<CliRunOutput>;
  /** `POST /_controller/cli-runs/{runId}/cancel`; idempotent (an ended run keeps its status). */
  cancelCliRun(target: ControllerTarget, runId: string): Promise<ControllerCliRun>;
  /**
   * `POST /_controller/sessions` with `Idempotency-Key: <idempotencyKey>` (IETF httpapi
   * Idempotency-Key draft). A new key starts a session (201); a key the controller already
   * started one with answers that session as it is now (200, `replayed: true`). The same key
   * with another body is 422 (`rejected`). The controller does not limit sessions per agent.
   */
  startSession(
    target: ControllerTarget,
    input: { agentId: string; prompt: string; trigger: SessionTrigger; idempotencyKey: string },
  ): Promise<ControllerSession & { replayed: boolean }>;
  /** `GET /_controller/sessions/{sessionId}`. */
  getSession(target: ControllerTarget, sessionId: string): Promise<ControllerSession>;
  /** `POST /_controller/sessions/{sessionId}/cancel`; idempotent. */
  cancelSession(target: ControllerTarget, sessionId: string): Promise<ControllerSession>;
};

export type ControllerClientOptions = {
  /** Origin of an app's proxy: production `https://<app>.fly.dev` ({@link flyDevControllerUrl}). */
  baseUrlFor: (appName: string) => string;
  /** `CONTROLLER_SECRET`: each request's token is derived from it (see token.ts). */
  secret: string;
  fetch?: typeof fetch;
  /** Each call is abandoned after this many ms without a complete answer (default 10,000). */
  timeoutMs?: number;
};

/** Production: the app's public Fly proxy hostname (https://fly.io/docs/networking/services/). */
export const flyDevControllerUrl = (appName: string) => `https://${appName}.fly.dev`;

/**
 * A {@link ControllerClient} over HTTP. Each call carries `fly-force-instance-id: <machine
 * id>` so Fly's proxy routes it to that machine alone (as the health probe does,
 * src/adapters/fly/gateway.ts), and `Authorization: Bearer <HMAC token of the instance id>`.
 * The token is derived per call and never logged: error messages name the call, not it.
 */
export function createControllerClient(options: ControllerClientOptions): ControllerClient {
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function send<S extends z.ZodType>(
    target: ControllerTarget,
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; value: z.infer<S> }> {
    // The app name becomes a host label (`<app>.fly.dev`): checked like a path segment.
    pathSegment(target.appName, 'Fly app name', FLY_APP_NAME);
    const url = `${options.baseUrlFor(target.appName).replace(/\/+$/, '')}${path}`;
    const what = `${method} ${path} on machine ${target.machineId}`;
    const headers = new Headers({
      Authorization: `Bearer ${await controllerToken(options.secret, target.instanceId)}`,
      'fly-force-instance-id': target.machineId,
      Accept: 'application/json',
      ...extraHeaders,
    });
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetchFn(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await res.text();
    } catch (cause) {
      const timedOut = signal.aborted;
      throw new ControllerError({
        kind: timedOut ? 'timeout' : 'unreachable',
        status: 0,
        message: timedOut
          ? `no answer to ${what} within ${timeoutMs} ms`
          : `network error calling ${what}: ${String(cause)}`,
        cause,
      });
    }
    const json = parseJson(text);
    if (!res.ok) {
      const parsed = ControllerErrorBody.safeParse(json);
      const said = parsed.success
        ? [parsed.data.error, parsed.data.message].filter(Boolean).join(': ')
        : text.trim().slice(0, 200);
      throw new ControllerError({
        kind: kindForStatus(res.status),
        status: res.status,
        message: `${what} answered HTTP ${res.status}${said ? `: ${said}` : ''}`,
        liveId: parsed.success ? (parsed.data.liveRunId ?? null) : null,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new ControllerError({
        kind: 'invalid_response',
        status: res.status,
        message: `${what} answered a body outside the contract: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
          .join('; ')}`,
      });
    return { status: res.status, value: parsed.data };
  }
  const call = async <S extends z.ZodType>(
    target: ControllerTarget,
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>> => (await send(target, method, path, schema, body)).value;

  const run = (id: string) => `/_controller/cli-runs/${pathSegment(id, 'controller run id')}`;
  const session = (id: string) =>
    `/_controller/sessions/${pathSegment(id, 'controller session id')}`;
  return rejectingOnBadIds({
    startCliRun: async (t, input) => {
      const { status, value } = await send(
        t,
        'POST',
        '/_controller/cli-runs',
        CliRunStarted,
        { prompt: input.prompt },
        input.idempotencyKey ? { 'Idempotency-Key': input.idempotencyKey } : {},
      );
      return { ...value, replayed: status === 200 };
    },
    getCliRun: (t, id) => call(t, 'GET', run(id), ControllerCliRun),
    getCliRunOutput: (t, id, after) =>
      call(t, 'GET', `${run(id)}/output?after=${Math.max(0, Math.floor(after))}`, CliRunOutput),
    cancelCliRun: (t, id) => call(t, 'POST', `${run(id)}/cancel`, ControllerCliRun),
    startSession: async (t, input) => {
      const { status, value } = await send(
        t,
        'POST',
        '/_controller/sessions',
        ControllerSession,
        { agentId: input.agentId, prompt: input.prompt, trigger: input.trigger },
        { 'Idempotency-Key': input.idempotencyKey },
      );
      return { ...value, replayed: status === 200 };
    },
    getSession: (t, id) => call(t, 'GET', session(id), ControllerSession),
    cancelSession: (t, id) => call(t, 'POST', `${session(id)}/cancel`, ControllerSession),
  } satisfies ControllerClient);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
