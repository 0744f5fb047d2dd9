// The CLI-run endpoints, the same under /api/platform (the product's apps acting for the
// user: runs are `initiatedBy: user`) and /api/admin (admin tokens: `initiatedBy: admin`,
// audited), plus the admin-only list of every run.
import { createRoute, z } from '@hono/zod-openapi';
import { cancelCliRun } from '../../src/cli-runs/cancel.ts';
import {
  countCliRuns,
  getCliRun,
  listCliRuns,
  listInstanceCliRuns,
  requireUserCliRun,
} from '../../src/cli-runs/queries.ts';
import { startCliRun } from '../../src/cli-runs/start.ts';
import { AppError, ConflictError } from '../../src/lib/errors.ts';
import { ctxOf } from '../env.ts';
import { apiApp } from './app.ts';
import {
  AdminRunsQuery,
  CliRun,
  CliRunOutput,
  CliRunPage,
  CliRunWithOutput,
  cancelProblems,
  cliRunJson,
  InstanceRunsQuery,
  OutputQuery,
  outputJson,
  StartBody,
  startProblems,
  withOutput,
} from './cli-run-json.ts';
import { idempotent } from './idempotent.ts';
import { commonProblems, notFoundProblem, Uuid } from './schemas.ts';

type Surface = 'platform' | 'admin';

/**
 * A user is told a run is live on their instance, but an admin's run is invisible to them:
 * its id is left out of the 409 (`liveRunId` names only a run they can open).
 */
async function hideAdminRun(
  db: Parameters<typeof requireUserCliRun>[0],
  err: unknown,
  c: { get(key: 'platformUser'): { userId: string } | null | undefined },
): Promise<unknown> {
  if (!(err instanceof AppError) || err.code !== 'cli-run-live') return err;
  const liveRunId = String(err.extra.liveRunId ?? '');
  const userId = c.get('platformUser')?.userId ?? '';
  const visible = await requireUserCliRun(db, liveRunId, userId).then(
    () => true,
    () => false,
  );
  if (visible) return err;
  return new ConflictError(
    'A CLI run is already live on this instance.',
    { instanceId: err.extra.instanceId },
    'cli-run-live',
  );
}

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

function routesFor(surface: Surface) {
  const security: Record<string, string[]>[] = [
    { [surface === 'admin' ? 'adminToken' : 'platformKey']: [] },
  ];
  const tags = ['cli-runs'];
  const who = surface === 'admin' ? 'admin' : 'user';
  const start = idempotent(
    createRoute({
      method: 'post',
      path: '/instances/{id}/cli-runs',
      tags,
      security,
      summary: `Start a CLI run inside a running instance (initiatedBy: ${who})`,
      request: {
        params: z.object({ id: Uuid }),
        body: { required: true, content: { 'application/json': { schema: StartBody } } },
      },
      responses: {
        201: json(
          "The run: `running`, or `starting` when the controller's answer was lost (`lastError` says so; it is confirmed by sending the start again with its key). Follow it with GET /cli-runs/{runId}.",
          CliRun,
        ),
        ...commonProblems,
        ...startProblems,
      },
    }),
  );
  const forInstance = createRoute({
    method: 'get',
    path: '/instances/{id}/cli-runs',
    tags,
    security,
    summary: "An instance's CLI runs, newest first",
    request: { params: z.object({ id: Uuid }), query: InstanceRunsQuery },
    responses: { 200: json('A page of runs.', CliRunPage), ...commonProblems, ...notFoundProblem },
  });
  const one = createRoute({
    method: 'get',
    path: '/cli-runs/{runId}',
    tags,
    security,
    summary: 'One CLI run with its output (the last 64 KiB)',
    request: { params: z.object({ runId: Uuid }) },
    responses: {
      200: json('The run.', CliRunWithOutput),
      ...commonProblems,
      ...notFoundProblem,
    },
  });
  const output = createRoute({
    method: 'get',
    path: '/cli-runs/{runId}/output',
    tags,
    security,
    summary: "A CLI run's output after a byte offset (poll with the previous `size`)",
    request: { params: z.object({ runId: Uuid }), query: OutputQuery },
    responses: {
      200: json('Output after `after`.', CliRunOutput),
      ...commonProblems,
      ...notFoundProblem,
    },
  });
  const cancel = createRoute({
    method: 'post',
    path: '/cli-runs/{runId}/cancel',
    tags,
    security,
    summary: 'Cancel a live CLI run',
    description:
      'The run ends at once and its instance is released, whatever the controller answers: `cancelled` when the controller accepts, when Fly reports the machine gone, or when the controller cannot confirm yet (`cleanup: pending`: the cancel is sent again until it confirms or the machine is gone). A run the controller reports ended keeps its own terminal state; one it no longer knows, or whose instance was destroyed, is `failed` with the reason. A run that had already ended is answered as it is.',
    request: { params: z.object({ runId: Uuid }) },
    responses: {
      200: json('The run after the cancel.', CliRun),
      ...commonProblems,
      ...cancelProblems,
    },
  });

  return apiApp()
    .openapi(start, async (c) => {
      const instanceId = c.req.valid('param').id;
      const run = await startCliRun({
        ctx: ctxOf(c),
        input: { instanceId, prompt: c.req.valid('json').prompt, initiatedBy: who },
      }).catch(async (err: unknown) => {
        throw surface === 'platform' ? await hideAdminRun(c.get('deps').db, err, c) : err;
      });
      return c.json(cliRunJson(run, surface), 201);
    })
    .openapi(forInstance, async (c) => {
      const q = c.req.valid('query');
      const page = await listInstanceCliRuns(c.get('deps').db, c.req.valid('param').id, {
        cursor: q.cursor,
        limit: q.limit,
        // A user sees only runs a user started; admins' runs are invisible to them.
        ...(surface === 'platform' ? { initiatedBy: 'user' as const } : {}),
      });
      return c.json(
        {
          items: page.items.map((r) => cliRunJson(r, surface)),
          nextCursor: page.next,
          prevCursor: page.prev,
        },
        200,
      );
    })
    .openapi(one, async (c) => {
      const run = await getCliRun(c.get('deps').db, c.req.valid('param').runId);
      return c.json(withOutput(run, surface), 200);
    })
    .openapi(output, async (c) => {
      const run = await getCliRun(c.get('deps').db, c.req.valid('param').runId);
      return c.json(outputJson(run, c.req.valid('query').after), 200);
    })
    .openapi(cancel, async (c) => {
      const run = await cancelCliRun({
        ctx: ctxOf(c),
        input: { runId: c.req.valid('param').runId, initiatedBy: who },
      });
      return c.json(cliRunJson(run, surface), 200);
    });
}

export const platformCliRunRoutes = () => routesFor('platform');

const adminList = createRoute({
  method: 'get',
  path: '/cli-runs',
  tags: ['cli-runs'],
  security: [{ adminToken: [] }],
  summary: 'Every CLI run (filters, search, sort, keyset pagination)',
  request: { query: AdminRunsQuery },
  responses: {
    200: json(
      'A page of runs.',
      CliRunPage.extend({ total: z.number().int() }).openapi('CliRunAdminPage'),
    ),
    ...commonProblems,
  },
});

export function adminCliRunRoutes() {
  return routesFor('admin').openapi(adminList, async (c) => {
    const { db } = c.get('deps');
    const q = c.req.valid('query');
    const filter = {
      status: q.status ? [q.status] : undefined,
      initiatedBy: q.initiatedBy,
      q: q.q,
    };
    const [page, total] = await Promise.all([
      listCliRuns(db, {
        ...filter,
        sort: q.sort,
        order: q.order,
        cursor: q.cursor,
        limit: q.limit,
      }),
      countCliRuns(db, filter),
    ]);
    return c.json(
      {
        items: page.items.map((r) => cliRunJson(r, 'admin')),
        nextCursor: page.next,
        prevCursor: page.prev,
        total,
      },
      200,
    );
  });
}
