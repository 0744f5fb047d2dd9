import { createRoute, z } from '@hono/zod-openapi';
import { cancelAction, cancelTarget } from '../../../src/scheduler/cancel.ts';
import { ACTION_STATUSES, ACTION_TYPES, TARGET_STATUSES } from '../../../src/scheduler/model.ts';
import {
  ACTION_SORTS,
  getAction,
  listActions,
  listTargets,
} from '../../../src/scheduler/queries.ts';
import { pauseAction, resumeAction } from '../../../src/scheduler/resume.ts';
import { retryFailedTargets } from '../../../src/scheduler/retry.ts';
import { previewSchedule, scheduleAction } from '../../../src/scheduler/schedule.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { idempotent } from '../idempotent.ts';
import {
  Cursor,
  commonProblems,
  Limit,
  notFoundProblem,
  problem,
  Timestamp,
  Uuid,
} from '../schemas.ts';
import { NoticeSettingsJson } from './notices-json.ts';
import { ScheduleRequest, toScheduleInput } from './schedule-request.ts';
import { ActionJson, actionJson, TargetJson, targetJson } from './scheduled-json.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: json(schema) },
});
const tags = ['scheduled actions'];
const security = [{ adminToken: [] }];
const Params = z.object({ id: Uuid });
const scheduleProblems = {
  409: problem('An instance already has a pending scheduled action (`conflictingInstanceIds`).'),
  422: problem(
    'Unknown or disabled image, runAt too soon, nothing eligible, or too many instances.',
  ),
};

const Exclusions = z.object({
  destroyed: z.array(Uuid),
  stopped: z.array(Uuid).openapi({
    description:
      'Stopped instances: always for a restart; for a version change unless includeStopped.',
  }),
  pinned: z.array(Uuid),
  alreadyOnTarget: z.array(Uuid),
  alreadyScheduled: z.array(Uuid),
  notFound: z.array(Uuid),
});
const Preview = z
  .object({
    eligible: z.number().int(),
    exclusions: Exclusions,
    pinsOverridden: z.number().int().openapi({
      description: 'Eligible instances pinned to another version whose pin moves to the target.',
    }),
    busy: z.array(Uuid).openapi({
      description:
        'Eligible instances busy right now (provisioning, restarting, recovering, destroying): retried at claim time for up to 10 minutes, then failed.',
    }),
    runAt: Timestamp,
    stages: z.array(
      z.object({ index: z.number().int(), size: z.number().int(), scheduledAt: Timestamp }),
    ),
    notices: NoticeSettingsJson.extend({
      firstDueAt: Timestamp.nullable().openapi({
        description: 'When the first notices go out (null: notify off or no channel).',
      }),
    }),
  })
  .openapi('SchedulePreview');

const statusList = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parsed = z.array(z.enum(values)).safeParse(v.split(','));
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `use ${values.join(', ')}` });
        return z.NEVER;
      }
      return parsed.data;
    })
    .openapi({ type: 'string', description: `Comma-separated: ${values.join(', ')}` });

const routes = {
  schedule: idempotent(
    createRoute({
      method: 'post',
      path: '/scheduled-actions',
      tags,
      security,
      summary: 'Schedule a restart or version rollout of many instances',
      request: body(ScheduleRequest),
      responses: {
        201: {
          description: 'Scheduled, with what was left out.',
          content: json(ActionJson.extend({ exclusions: Exclusions })),
        },
        ...commonProblems,
        ...scheduleProblems,
      },
    }),
  ),
  preview: createRoute({
    method: 'post',
    path: '/scheduled-actions/preview',
    tags,
    security,
    summary: 'What scheduling would do, without writing',
    request: body(ScheduleRequest),
    responses: {
      200: { description: 'Counts, exclusions and stages.', content: json(Preview) },
      ...commonProblems,
      422: scheduleProblems[422],
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/scheduled-actions',
    tags,
    security,
    summary: 'Scheduled actions, newest run time first',
    request: {
      query: z.object({
        status: statusList(ACTION_STATUSES),
        actionType: z.enum(ACTION_TYPES).optional(),
        sort: z.enum(ACTION_SORTS).default('run_at').openapi({
          description:
            '`status` orders by lifecycle: running, cancelling, paused, halted, scheduled, failed, completed, cancelled; then run time.',
        }),
        order: z.enum(['asc', 'desc']).default('desc'),
        cursor: Cursor,
        limit: Limit,
      }),
    },
    responses: {
      200: {
        description: 'A page of actions (stages omitted; GET one for them).',
        content: json(
          z.object({
            items: z.array(ActionJson.omit({ stages: true })),
            nextCursor: z.string().nullable(),
            prevCursor: z.string().nullable(),
          }),
        ),
      },
      ...commonProblems,
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/scheduled-actions/{id}',
    tags,
    security,
    summary: 'One action with its counts and stages',
    request: { params: Params },
    responses: {
      200: { description: 'The action.', content: json(ActionJson) },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
  targets: createRoute({
    method: 'get',
    path: '/scheduled-actions/{id}/targets',
    tags,
    security,
    summary: "An action's targets",
    request: {
      params: Params,
      query: z.object({
        status: statusList(TARGET_STATUSES),
        cursor: Cursor,
        limit: Limit,
      }),
    },
    responses: {
      200: {
        description: 'A page of targets.',
        content: json(
          z.object({
            items: z.array(TargetJson),
            nextCursor: z.string().nullable(),
            prevCursor: z.string().nullable(),
          }),
        ),
      },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
  cancel: createRoute({
    method: 'post',
    path: '/scheduled-actions/{id}/cancel',
    tags,
    security,
    summary:
      'Cancel the action (pending targets are cancelled; running ones finish). It reads `cancelling` until the last running target ends, then `cancelled`. Repeating is a no-op.',
    request: { params: Params },
    responses: {
      200: { description: 'The action now.', content: json(ActionJson) },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
  pause: createRoute({
    method: 'post',
    path: '/scheduled-actions/{id}/pause',
    tags,
    security,
    summary:
      'Pause a scheduled or running action: targets being applied finish, nothing new starts',
    request: { params: Params },
    responses: {
      200: { description: 'The action now.', content: json(ActionJson) },
      ...commonProblems,
      ...notFoundProblem,
      409: problem('The action is not scheduled or running (`not-pausable`).'),
    },
  }),
  resume: createRoute({
    method: 'post',
    path: '/scheduled-actions/{id}/resume',
    tags,
    security,
    summary:
      'Resume a paused action where it stopped, or a halted one from now (its halted stages rescheduled)',
    request: { params: Params },
    responses: {
      200: { description: 'The action now.', content: json(ActionJson) },
      ...commonProblems,
      ...notFoundProblem,
      409: problem('The action is neither paused nor halted (`not-resumable`).'),
    },
  }),
  retryFailed: createRoute({
    method: 'post',
    path: '/scheduled-actions/{id}/retry-failed',
    tags,
    security,
    summary: "Schedule an ended action's failed targets again, as a new action due now",
    request: { params: Params },
    responses: {
      201: {
        description: 'The new action, with what was left out.',
        content: json(ActionJson.extend({ exclusions: Exclusions })),
      },
      ...commonProblems,
      ...notFoundProblem,
      409: problem('The action has not ended (`not-ended`).'),
      422: problem('No target of the action failed (`no-failed-targets`).'),
    },
  }),
  cancelTarget: createRoute({
    method: 'post',
    path: '/scheduled-action-targets/{id}/cancel',
    tags,
    security,
    summary: 'Cancel one pending target (one instance of a batch). Repeating is a no-op.',
    request: { params: Params },
    responses: {
      200: {
        description: 'The target, cancelled.',
        content: json(
          TargetJson.pick({ id: true, actionId: true, instanceId: true, status: true }),
        ),
      },
      ...commonProblems,
      ...notFoundProblem,
      409: problem('The target is already being applied or finished.'),
    },
  }),
};

/** /api/admin/scheduled-actions: schedule, preview, list, inspect, cancel and resume. */
export function scheduledActionRoutes() {
  const app = apiApp();
  const createdJson = async (
    ctx: ReturnType<typeof ctxOf>,
    created: Awaited<ReturnType<typeof scheduleAction>>,
  ) => {
    const detail = await getAction(ctx.db, created.action.id);
    const ex = created.exclusions;
    return {
      ...actionJson(detail),
      exclusions: {
        destroyed: ex.destroyed,
        stopped: ex.stopped,
        pinned: ex.pinned,
        alreadyOnTarget: ex.already_on_target,
        alreadyScheduled: ex.already_scheduled,
        notFound: created.notFound,
      },
    };
  };
  app.openapi(routes.schedule, async (c) => {
    const ctx = ctxOf(c);
    const created = await scheduleAction({ ctx, input: toScheduleInput(c.req.valid('json')) });
    return c.json(await createdJson(ctx, created), 201);
  });
  app.openapi(routes.retryFailed, async (c) => {
    const ctx = ctxOf(c);
    const created = await retryFailedTargets({ ctx, input: { actionId: c.req.valid('param').id } });
    return c.json(await createdJson(ctx, created), 201);
  });
  app.openapi(routes.preview, async (c) => {
    const p = await previewSchedule(ctxOf(c), toScheduleInput(c.req.valid('json')));
    return c.json(
      {
        eligible: p.eligible,
        exclusions: p.exclusions,
        pinsOverridden: p.pinsOverridden,
        busy: p.busy,
        runAt: p.runAt.toISOString(),
        stages: p.stages.map((s) => ({ ...s, scheduledAt: s.scheduledAt.toISOString() })),
        notices: { ...p.notices, firstDueAt: p.notices.firstDueAt?.toISOString() ?? null },
      },
      200,
    );
  });
  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    const page = await listActions(c.get('deps').db, q);
    return c.json(
      {
        items: page.items.map((a) => {
          const { stages: _, ...rest } = actionJson({ ...a, stages: [] });
          return rest;
        }),
        nextCursor: page.next,
        prevCursor: page.prev,
      },
      200,
    );
  });
  app.openapi(routes.get, async (c) =>
    c.json(actionJson(await getAction(c.get('deps').db, c.req.valid('param').id)), 200),
  );
  app.openapi(routes.targets, async (c) => {
    const { id } = c.req.valid('param');
    await getAction(c.get('deps').db, id);
    const page = await listTargets(c.get('deps').db, id, c.req.valid('query'));
    return c.json(
      { items: page.items.map(targetJson), nextCursor: page.next, prevCursor: page.prev },
      200,
    );
  });
  app.openapi(routes.cancel, async (c) => {
    const ctx = ctxOf(c);
    const action = await cancelAction({ ctx, input: { actionId: c.req.valid('param').id } });
    return c.json(actionJson(await getAction(ctx.db, action.id)), 200);
  });
  app.openapi(routes.pause, async (c) => {
    const ctx = ctxOf(c);
    const action = await pauseAction({ ctx, input: { actionId: c.req.valid('param').id } });
    return c.json(actionJson(await getAction(ctx.db, action.id)), 200);
  });
  app.openapi(routes.resume, async (c) => {
    const ctx = ctxOf(c);
    const action = await resumeAction({ ctx, input: { actionId: c.req.valid('param').id } });
    return c.json(actionJson(await getAction(ctx.db, action.id)), 200);
  });
  app.openapi(routes.cancelTarget, async (c) => {
    const t = await cancelTarget({ ctx: ctxOf(c), input: { targetId: c.req.valid('param').id } });
    return c.json(
      { id: t.id, actionId: t.actionId, instanceId: t.instanceId, status: t.status },
      200,
    );
  });
  return app;
}
