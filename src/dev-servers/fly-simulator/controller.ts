// The instance controller every started simulated machine serves, reached as production
// reaches it: `<edge>/{app}` standing in for `https://<app>.fly.dev`, with the machine
// chosen by `fly-force-instance-id`. Contract: docs/controller-openapi.yaml.
import { type Context, Hono } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { CONTROLLER_TOKEN_ENV } from '../../adapters/controller/token.ts';
import type { MachineConfig } from '../../adapters/fly/types.ts';
import type { SimContext } from './context.ts';
import { forwardToController } from './controller-forward.ts';
import { DEFAULT_RUN, DEFAULT_SESSION_MS, parseDirectives } from './controller-runs.ts';
import type { EndpointGuard } from './faults.ts';
import { findMachine } from './store.ts';

class ControllerFailure extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const StartRun = z.object({ prompt: z.string().min(1).max(10_000) }).strict();
const StartSession = z
  .object({
    agentId: z.string().min(1).max(128),
    prompt: z.string().min(1).max(10_000),
    trigger: z.enum(['api', 'cron', 'manual']),
  })
  .strict();

async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw new ControllerFailure(400, 'invalid_request', 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ControllerFailure(
      400,
      'invalid_request',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/**
 * The machine `fly-force-instance-id` names, when it is started and reachable (else 503,
 * as Fly's proxy answers when it has nowhere to send a request: never 404, which the
 * contract keeps for an unknown run), and the caller's bearer token matches the machine's
 * `FLEETWARDEN_CONTROLLER_TOKEN` (constant-time compare; else 401).
 */
async function machineFor(ctx: SimContext, c: Context): Promise<string> {
  const id = c.req.header('fly-force-instance-id');
  if (!id) throw new ControllerFailure(400, 'invalid_request', 'fly-force-instance-id is required');
  const machine = await findMachine(ctx, c.req.param('app') ?? '', id);
  if (machine?.state !== 'started' || ctx.faults.hostUnreachable(machine))
    throw new ControllerFailure(503, 'unavailable', `machine ${id} is not started`);
  const expected = (machine.config as MachineConfig).env?.[CONTROLLER_TOKEN_ENV];
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (!expected || !given || !(await timingSafeEqual(given, expected)))
    throw new ControllerFailure(401, 'unauthorized', 'bearer token does not match this machine');
  return machine.id;
}

/**
 * The `Idempotency-Key` header (IETF httpapi Idempotency-Key draft): 1–255 characters, else
 * 400; a missing one is 400 when `required`, else null.
 */
function idempotencyKey(c: Context, required: boolean): string | null {
  const key = c.req.header('idempotency-key');
  if (key === undefined && !required) return null;
  if (!key || key.length > 255)
    throw new ControllerFailure(
      400,
      'invalid_request',
      `Idempotency-Key ${required ? 'is required' : 'must be'} (1–255 characters)`,
    );
  return key;
}

const unknownRun = (id: string) =>
  new ControllerFailure(404, 'not_found', `no CLI run ${id} on this machine`);
const unknownSession = (id: string) =>
  new ControllerFailure(404, 'not_found', `no session ${id} on this machine`);

/** `/{app}/_controller/…` under the simulator's edge (see gateway.ts for the URL). */
export function controllerRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  const base = '/gateway/:app/_controller';
  const runs = ctx.controller;
  const real = ctx.realController;
  // Registered first, so with a real controller no simulated route is reached.
  if (real)
    app.on(['GET', 'POST'], `${base}/*`, async (c) => {
      await machineFor(ctx, c);
      return forwardToController(real, c);
    });

  app.post(`${base}/cli-runs`, guard('controller_start_cli_run', 'app'), async (c) => {
    const machineId = await machineFor(ctx, c);
    // Optional here (contract 1.1): without it a start is not idempotent, as in 1.0.
    const key = idempotencyKey(c, false);
    const { prompt } = await body(c, StartRun);
    const wanted = parseDirectives(prompt, DEFAULT_RUN);
    if (!wanted.ok) throw new ControllerFailure(400, 'invalid_request', wanted.error);
    const result = runs.start(machineId, { key, prompt, behaviour: wanted.behaviour }, ctx.nowMs());
    if (result.outcome === 'reused')
      throw new ControllerFailure(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key started a CLI run with another prompt',
      );
    if (result.outcome === 'live')
      throw new ControllerFailure(409, 'run_live', 'a CLI run is already live', {
        liveRunId: result.liveRunId,
      });
    return c.json(
      { runId: result.run.runId, startedAt: result.run.startedAt },
      result.outcome === 'started' ? 201 : 200,
    );
  });
  app.get(`${base}/cli-runs/:run`, guard('controller_get_cli_run', 'app'), async (c) => {
    const run = runs.get(await machineFor(ctx, c), c.req.param('run'), ctx.nowMs());
    if (!run) throw unknownRun(c.req.param('run'));
    return c.json(run);
  });
  app.get(
    `${base}/cli-runs/:run/output`,
    guard('controller_get_cli_run_output', 'app'),
    async (c) => {
      const machineId = await machineFor(ctx, c);
      const after = c.req.query('after') ?? '0';
      if (!/^\d+$/.test(after))
        throw new ControllerFailure(400, 'invalid_request', 'after must be a byte offset');
      const out = runs.output(machineId, c.req.param('run'), Number(after), ctx.nowMs());
      if (!out) throw unknownRun(c.req.param('run'));
      return c.json(out);
    },
  );
  app.post(`${base}/cli-runs/:run/cancel`, guard('controller_cancel_cli_run', 'app'), async (c) => {
    const run = runs.cancel(await machineFor(ctx, c), c.req.param('run'), ctx.nowMs());
    if (!run) throw unknownRun(c.req.param('run'));
    return c.json(run);
  });

  app.post(`${base}/sessions`, guard('controller_start_session', 'app'), async (c) => {
    const machineId = await machineFor(ctx, c);
    const key = idempotencyKey(c, true) as string;
    const input = await body(c, StartSession);
    // `#sim duration=… exit=…` works for sessions too: a non-zero exit ends it `failed`.
    const wanted = parseDirectives(input.prompt, {
      ...DEFAULT_RUN,
      durationMs: DEFAULT_SESSION_MS,
    });
    if (!wanted.ok) throw new ControllerFailure(400, 'invalid_request', wanted.error);
    const result = runs.startSession(
      machineId,
      key,
      {
        agentId: input.agentId,
        prompt: input.prompt,
        trigger: input.trigger,
        durationMs: wanted.behaviour.durationMs,
        fails: wanted.behaviour.exitCode !== 0,
      },
      ctx.nowMs(),
    );
    if (result.outcome === 'reused')
      throw new ControllerFailure(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key started a session with another agent, prompt or trigger',
      );
    return c.json(result.session, result.outcome === 'started' ? 201 : 200);
  });
  app.get(`${base}/sessions/:session`, guard('controller_get_session', 'app'), async (c) => {
    const s = runs.getSession(await machineFor(ctx, c), c.req.param('session'), ctx.nowMs());
    if (!s) throw unknownSession(c.req.param('session'));
    return c.json(s);
  });
  app.post(
    `${base}/sessions/:session/cancel`,
    guard('controller_cancel_session', 'app'),
    async (c) => {
      const s = runs.cancelSession(await machineFor(ctx, c), c.req.param('session'), ctx.nowMs());
      if (!s) throw unknownSession(c.req.param('session'));
      return c.json(s);
    },
  );

  app.onError((error, c) => {
    if (error instanceof ControllerFailure)
      return c.json({ error: error.code, message: error.message, ...error.extra }, error.status);
    throw error;
  });
  return app;
}

/**
 * `GET /_controller-state` (the simulator's bearer token, like `/_faults`): every machine's
 * runs and sessions as its controller knows them now, each with the `Idempotency-Key` that
 * started it, so a test or a demo can compare them with the control plane's rows.
 */
export function controllerStateRoutes(ctx: SimContext) {
  return new Hono().get('/_controller-state', (c) =>
    c.json({ machines: ctx.controller.state(ctx.nowMs()) }),
  );
}
