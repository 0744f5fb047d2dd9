// The contract's operations (docs/controller-openapi.yaml) and the unauthenticated health
// check, mapped onto the CLI runs and sessions.
import type { CliRuns } from './cli-runs.ts';
import type { Route } from './http.ts';
import type { Sessions } from './sessions.ts';
import { sessionView } from './sessions.ts';
import { afterOffset, idempotencyKey, startCliRunBody, startSessionBody } from './validate.ts';

export const VERSION = '1.2.0';

export function controllerRoutes(deps: { runs: CliRuns; sessions: Sessions }): Route[] {
  const { runs, sessions } = deps;
  return [
    {
      // No token, nothing about runs: for Fly's checks, and in the shape fleetwarden's own
      // probe reads (src/adapters/fly/gateway.ts) when the controller is what answers the
      // app's public port: Fly's machine version as `instance_id`.
      method: 'GET',
      path: '/healthz',
      auth: false,
      handle: () => ({
        status: 200,
        body: {
          status: 'ok',
          ...(process.env.FLY_MACHINE_VERSION
            ? { instance_id: process.env.FLY_MACHINE_VERSION }
            : {}),
          ...(process.env.FLY_IMAGE_REF ? { image: process.env.FLY_IMAGE_REF } : {}),
          contract: VERSION,
        },
      }),
    },
    {
      method: 'POST',
      path: '/_controller/cli-runs',
      async handle(req) {
        const key = idempotencyKey(req.header('idempotency-key'), false);
        const { prompt } = startCliRunBody(await req.json());
        const { run, replayed } = runs.start({ prompt, key });
        return { status: replayed ? 200 : 201, body: { runId: run.id, startedAt: run.startedAt } };
      },
    },
    {
      method: 'GET',
      path: '/_controller/cli-runs/:runId',
      handle: (req) => ({ status: 200, body: runs.get(req.params.runId as string) }),
    },
    {
      method: 'GET',
      path: '/_controller/cli-runs/:runId/output',
      handle: (req) => ({
        status: 200,
        body: runs.output(req.params.runId as string, afterOffset(req.query.get('after'))),
      }),
    },
    {
      method: 'POST',
      path: '/_controller/cli-runs/:runId/cancel',
      handle: (req) => ({ status: 200, body: runs.cancel(req.params.runId as string) }),
    },
    {
      method: 'POST',
      path: '/_controller/sessions',
      async handle(req) {
        const key = idempotencyKey(req.header('idempotency-key'), true) as string;
        const input = startSessionBody(await req.json());
        const { session, replayed } = sessions.start({ ...input, key });
        return { status: replayed ? 200 : 201, body: sessionView(session) };
      },
    },
    {
      method: 'GET',
      path: '/_controller/sessions/:sessionId',
      handle: (req) => ({ status: 200, body: sessions.get(req.params.sessionId as string) }),
    },
    {
      method: 'POST',
      path: '/_controller/sessions/:sessionId/cancel',
      handle: (req) => ({ status: 200, body: sessions.cancel(req.params.sessionId as string) }),
    },
  ];
}
