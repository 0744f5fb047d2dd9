import { createRoute, z } from '@hono/zod-openapi';
import { instanceNames } from '../../../src/fleet/recovery-moves.ts';
import { NotFoundError } from '../../../src/lib/errors.ts';
import { getRecovery } from '../../../src/recovery/model.ts';
import { listRecoveries } from '../../../src/recovery/queries.ts';
import { reconcileNow } from '../../../src/recovery/reconcile.ts';
import { deleteRetainedVolumeNow } from '../../../src/recovery/retained.ts';
import { retryRecovery } from '../../../src/recovery/retry.ts';
import { recoverNow } from '../../../src/recovery/start.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import {
  Cursor,
  commonProblems,
  Limit,
  notFoundProblem,
  pageOf,
  problem,
  Text,
  Uuid,
} from '../schemas.ts';
import {
  ReconcileRunJson,
  RecoveryCause,
  RecoveryDetailJson,
  RecoveryJson,
  RecoveryStatus,
  reconcileRunJson,
  recoveryDetailJson,
  recoveryJson,
} from './recovery-json.ts';

const csv = <T extends z.ZodType>(item: T, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parsed = z.array(item).safeParse(v.split(','));
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `unknown ${what}` });
        return z.NEVER;
      }
      return parsed.data as z.infer<T>[];
    })
    .openapi({ description: `Comma-separated ${what} values.`, type: 'string' });

const list = createRoute({
  method: 'get',
  path: '/recoveries',
  tags: ['recovery'],
  summary: 'Unexpected-stop recoveries, newest first (filters, keyset pagination)',
  security: [{ adminToken: [] }],
  request: {
    query: z.object({
      status: csv(RecoveryStatus, 'status'),
      cause: csv(RecoveryCause, 'cause'),
      instanceId: Uuid.optional(),
      q: Text().trim().max(200).optional().openapi({ description: 'Instance name or owner.' }),
      cursor: Cursor,
      limit: Limit,
    }),
  },
  responses: {
    200: {
      description: 'A page of recoveries.',
      content: { 'application/json': { schema: pageOf(RecoveryJson, 'RecoveryPage') } },
    },
    ...commonProblems,
  },
});

const Params = z.object({ id: Uuid });

const get = createRoute({
  method: 'get',
  path: '/recoveries/{id}',
  tags: ['recovery'],
  summary: 'One recovery, with each step and its duration',
  security: [{ adminToken: [] }],
  request: { params: Params },
  responses: {
    200: {
      description: 'The recovery.',
      content: { 'application/json': { schema: RecoveryDetailJson } },
    },
    ...commonProblems,
    ...notFoundProblem,
  },
});

const retry = createRoute({
  method: 'post',
  path: '/recoveries/{id}/retry',
  tags: ['recovery'],
  summary: 'Retry a failed recovery from the step it failed in',
  security: [{ adminToken: [] }],
  request: { params: Params },
  responses: {
    202: {
      description: 'Resumed; follow it on GET /recoveries/{id}.',
      content: { 'application/json': { schema: RecoveryJson } },
    },
    ...commonProblems,
    ...notFoundProblem,
    409: problem('Not failed (`not-failed`), or the instance is busy (`instance-busy`).'),
  },
});

const recover = createRoute({
  method: 'post',
  path: '/instances/{id}/recover',
  tags: ['recovery'],
  summary: 'Recover an instance now (in place first, unless `relocate`)',
  security: [{ adminToken: [] }],
  request: {
    params: Params,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .strictObject({
              relocate: z.boolean().default(false).openapi({
                description: 'Skip the in-place start: move to a new volume and machine.',
              }),
            })
            .openapi('RecoverRequest'),
        },
      },
    },
  },
  responses: {
    202: {
      description: 'Begun; follow it on GET /recoveries/{id}.',
      content: { 'application/json': { schema: RecoveryJson } },
    },
    ...commonProblems,
    ...notFoundProblem,
    409: problem('The instance is busy (`instance-busy`) or destroyed (`not-recoverable`).'),
  },
});

const reconcile = createRoute({
  method: 'post',
  path: '/reconcile',
  tags: ['recovery'],
  summary: 'Run a reconcile now (audited)',
  security: [{ adminToken: [] }],
  responses: {
    200: {
      description: 'The run: what it compared, found and did.',
      content: { 'application/json': { schema: ReconcileRunJson } },
    },
    ...commonProblems,
  },
});

const deleteRetained = createRoute({
  method: 'delete',
  path: '/instances/{id}/retained-volume',
  tags: ['recovery'],
  summary: 'Delete the retained old volume now (ownership checked; audited)',
  security: [{ adminToken: [] }],
  request: { params: Params },
  responses: {
    200: {
      description: 'Deleted.',
      content: {
        'application/json': {
          schema: z
            .object({ volumeId: z.string(), recoveryId: Uuid })
            .openapi('RetainedVolumeDeleted'),
        },
      },
    },
    ...commonProblems,
    404: problem('No such instance, or it has no retained volume (`no-retained-volume`).'),
    409: problem(
      'The volume is attached to a machine that is not this instance’s (`ownership-mismatch`); nothing was deleted.',
    ),
  },
});

/** Recoveries, reconcile and retained volumes on /api/admin. */
export function recoveryRoutes() {
  return apiApp()
    .openapi(list, async (c) => {
      const page = await listRecoveries(c.get('deps').db, c.req.valid('query'));
      return c.json(
        { items: page.items.map(recoveryJson), nextCursor: page.next, prevCursor: page.prev },
        200,
      );
    })
    .openapi(get, async (c) => {
      const { db } = c.get('deps');
      const { id } = c.req.valid('param');
      const r = await getRecovery(db, id);
      if (!r) throw new NotFoundError('Recovery', id);
      const names = await instanceNames(db, [r.instanceId]);
      return c.json(
        recoveryDetailJson({ ...r, instanceName: names.get(r.instanceId) ?? null }),
        200,
      );
    })
    .openapi(retry, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(
        recoveryJson(await retryRecovery({ ctx: ctxOf(c), input: { recoveryId: id } })),
        202,
      );
    })
    .openapi(recover, async (c) => {
      const { id } = c.req.valid('param');
      const body = (c.req.valid('json') as { relocate?: boolean } | undefined) ?? {};
      const r = await recoverNow({
        ctx: ctxOf(c),
        input: { instanceId: id, relocate: body.relocate ?? false },
      });
      return c.json(recoveryJson(r), 202);
    })
    .openapi(reconcile, async (c) =>
      c.json(reconcileRunJson(await reconcileNow({ ctx: ctxOf(c) })), 200),
    )
    .openapi(deleteRetained, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(
        await deleteRetainedVolumeNow({ ctx: ctxOf(c), input: { instanceId: id } }),
        200,
      );
    });
}
