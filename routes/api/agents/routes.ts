import { createRoute, z } from '@hono/zod-openapi';
import {
  createAgent,
  deleteAgent,
  getAgent,
  runAgentNow,
  setAgentEnabled,
  updateAgent,
} from '../../../src/triggers/agents.ts';
import {
  AGENT_SORTS,
  listAgents,
  listSessions,
  previewFires,
} from '../../../src/triggers/queries.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { ETAG_HEADER, etagOf, IfMatch, ifMatchHolds } from '../etag.ts';
import { idempotent } from '../idempotent.ts';
import { Cursor, commonProblems, Limit, notFoundProblem, problem, Text, Uuid } from '../schemas.ts';
import {
  AdminAgentCreate,
  AgentCreate,
  AgentJson,
  AgentPatch,
  agentJson,
  Preview,
  PreviewBody,
  PreviewQuery,
  SessionFilters,
  SessionJson,
  sessionJson,
} from './schema.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: json(schema) },
});
const invalidSchedule = {
  422: problem(
    '`invalid-schedule`: the expression or the zone does not parse; `errors` names the field and says why.',
  ),
};
const Page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable(),
    prevCursor: z.string().nullable(),
  });

/**
 * The agents API for one route group: `admin` (`/agents…`, admin tokens; create names the
 * instance) or `platform` (`/instances/{instanceId}/agents…`, platform keys; every agent is
 * looked up within that instance).
 */
export function agentRoutes(group: 'admin' | 'platform') {
  const app = apiApp();
  const base = group === 'admin' ? '/agents' : '/instances/{instanceId}/agents';
  const security: Record<string, string[]>[] = [
    { [group === 'admin' ? 'adminToken' : 'platformKey']: [] },
  ];
  const tags = [group === 'admin' ? 'agents' : 'platform'];
  const Scope = group === 'admin' ? z.object({}) : z.object({ instanceId: Uuid });
  const One = Scope.extend({ id: Uuid });
  const scopeOf = (p: { instanceId?: string }) =>
    p.instanceId ? { instanceId: p.instanceId } : {};
  const r = <T extends Parameters<typeof createRoute>[0]>(route: T) =>
    createRoute({ ...route, tags, security });

  const routes = {
    create: idempotent(
      r({
        method: 'post',
        path: base,
        summary: 'Create an agent (its first fire time is computed and its doorbell rung)',
        request: { params: Scope, ...body(group === 'admin' ? AdminAgentCreate : AgentCreate) },
        responses: {
          201: { description: 'The agent.', content: json(AgentJson) },
          ...commonProblems,
          ...notFoundProblem,
          ...invalidSchedule,
        },
      }),
    ),
    list: r({
      method: 'get',
      path: base,
      summary: 'Agents, by next fire time (none last) or name',
      request: {
        params: Scope,
        query: z.object({
          q: Text().max(200).optional().openapi({ description: 'Substring of the name.' }),
          enabled: z.enum(['true', 'false']).optional(),
          timeZone: Text().max(64).optional(),
          ...(group === 'admin' ? { instanceId: Uuid.optional() } : {}),
          sort: z.enum(AGENT_SORTS).default('next_fire'),
          order: z.enum(['asc', 'desc']).default('asc'),
          cursor: Cursor,
          limit: Limit,
        }),
      },
      responses: {
        200: { description: 'A page of agents.', content: json(Page(AgentJson)) },
        ...commonProblems,
      },
    }),
    previewDraft: r({
      method: 'post',
      path: `${base}/preview`,
      summary: 'Next fire times of an unsaved expression and zone (for an editor)',
      request: { params: Scope, ...body(PreviewBody) },
      responses: {
        200: { description: 'Fire times after `from`.', content: json(Preview) },
        ...commonProblems,
        ...invalidSchedule,
      },
    }),
    get: r({
      method: 'get',
      path: `${base}/{id}`,
      summary: 'One agent',
      request: { params: One },
      responses: {
        200: {
          description: 'The agent, with its version in `ETag` (send it as `If-Match` to PATCH).',
          content: json(AgentJson),
          headers: ETAG_HEADER,
        },
        ...commonProblems,
        ...notFoundProblem,
      },
    }),
    update: r({
      method: 'patch',
      path: `${base}/{id}`,
      summary:
        'Change an agent (a new expression, zone or enabled state recomputes the next fire time)',
      request: { params: One, headers: IfMatch, ...body(AgentPatch) },
      responses: {
        200: { description: 'The agent.', content: json(AgentJson), headers: ETAG_HEADER },
        ...commonProblems,
        ...notFoundProblem,
        412: problem(
          'The agent changed since the version named in `If-Match` (`precondition-failed`): nothing was changed; GET it again.',
        ),
        ...invalidSchedule,
      },
    }),
    remove: r({
      method: 'delete',
      path: `${base}/{id}`,
      summary: 'Delete an agent and its session history',
      request: { params: One },
      responses: { 204: { description: 'Deleted.' }, ...commonProblems, ...notFoundProblem },
    }),
    run: idempotent(
      r({
        method: 'post',
        path: `${base}/{id}/run`,
        summary: 'Run now: a `manual` session, started at once; the next fire time stays',
        request: { params: One },
        responses: {
          202: { description: 'The session, as the start left it.', content: json(SessionJson) },
          ...commonProblems,
          ...notFoundProblem,
        },
      }),
    ),
    pause: r({
      method: 'post',
      path: `${base}/{id}/pause`,
      summary: 'Pause: no fire times until resumed',
      request: { params: One },
      responses: {
        200: { description: 'The agent.', content: json(AgentJson) },
        ...commonProblems,
        ...notFoundProblem,
      },
    }),
    resume: r({
      method: 'post',
      path: `${base}/{id}/resume`,
      summary: 'Resume: the next fire time from now (missed ones are not caught up)',
      request: { params: One },
      responses: {
        200: { description: 'The agent.', content: json(AgentJson) },
        ...commonProblems,
        ...notFoundProblem,
        ...invalidSchedule,
      },
    }),
    preview: r({
      method: 'get',
      path: `${base}/{id}/preview`,
      summary: "The agent's next fire times after `from`, in UTC and in its zone",
      request: { params: One, query: PreviewQuery },
      responses: {
        200: { description: 'Fire times (empty without a schedule).', content: json(Preview) },
        ...commonProblems,
        ...notFoundProblem,
        ...invalidSchedule,
      },
    }),
    sessions: r({
      method: 'get',
      path: `${base}/{id}/sessions`,
      summary: "The agent's sessions, newest first",
      request: {
        params: One,
        query: z.object({ ...SessionFilters, cursor: Cursor, limit: Limit }),
      },
      responses: {
        200: { description: 'A page of sessions.', content: json(Page(SessionJson)) },
        ...commonProblems,
        ...notFoundProblem,
      },
    }),
  };

  app.openapi(routes.create, async (c) => {
    const params = c.req.valid('param') as { instanceId?: string };
    const input = c.req.valid('json') as z.infer<typeof AdminAgentCreate>;
    const { timeZone, ...rest } = input;
    const agent = await createAgent({
      ctx: ctxOf(c),
      input: {
        ...rest,
        ...(timeZone ? { timeZone } : {}),
        instanceId: params.instanceId ?? input.instanceId,
      },
    });
    return c.json(agentJson(agent), 201);
  });
  app.openapi(routes.list, async (c) => {
    const params = c.req.valid('param') as { instanceId?: string };
    const q = c.req.valid('query') as Record<string, string | number | undefined>;
    const page = await listAgents(c.get('deps').db, {
      ...(q.q ? { q: String(q.q) } : {}),
      ...(q.enabled ? { enabled: q.enabled === 'true' } : {}),
      ...(q.timeZone ? { timeZone: String(q.timeZone) } : {}),
      ...(params.instanceId || q.instanceId
        ? { instanceId: String(params.instanceId ?? q.instanceId) }
        : {}),
      sort: q.sort as 'next_fire' | 'name',
      order: q.order as 'asc' | 'desc',
      ...(q.cursor ? { cursor: String(q.cursor) } : {}),
      limit: Number(q.limit),
    });
    return c.json(
      { items: page.items.map(agentJson), nextCursor: page.next, prevCursor: page.prev },
      200,
    );
  });
  app.openapi(routes.previewDraft, async (c) => {
    const b = c.req.valid('json');
    const now = c.get('deps').clock.now();
    return c.json(
      previewFires({
        cronExpression: b.cronExpression,
        timeZone: b.timeZone,
        from: b.from ? new Date(b.from) : now,
        count: b.n,
      }),
      200,
    );
  });
  app.openapi(routes.get, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    const body = agentJson(await getAgent(c.get('deps'), p.id, p.instanceId));
    return c.json(body, 200, { ETag: await etagOf(body) });
  });
  app.openapi(routes.update, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    const patch = Object.fromEntries(
      Object.entries(c.req.valid('json')).filter(([, v]) => v !== undefined),
    );
    const ifMatch = c.req.header('If-Match');
    const agent = await updateAgent({
      ctx: ctxOf(c),
      id: p.id,
      ...scopeOf(p),
      patch,
      ...(ifMatch
        ? {
            precondition: async (current) =>
              ifMatchHolds(ifMatch, await etagOf(agentJson(current))),
          }
        : {}),
    });
    const body = agentJson(agent);
    return c.json(body, 200, { ETag: await etagOf(body) });
  });
  app.openapi(routes.remove, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    await deleteAgent({ ctx: ctxOf(c), id: p.id, ...scopeOf(p) });
    return c.body(null, 204);
  });
  app.openapi(routes.run, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    return c.json(sessionJson(await runAgentNow({ ctx: ctxOf(c), id: p.id, ...scopeOf(p) })), 202);
  });
  for (const [route, enabled] of [
    [routes.pause, false],
    [routes.resume, true],
  ] as const)
    app.openapi(route, async (c) => {
      const p = c.req.valid('param') as { id: string; instanceId?: string };
      const agent = await setAgentEnabled({ ctx: ctxOf(c), id: p.id, ...scopeOf(p), enabled });
      return c.json(agentJson(agent), 200);
    });
  app.openapi(routes.preview, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    const q = c.req.valid('query');
    const agent = await getAgent(c.get('deps'), p.id, p.instanceId);
    if (!agent.cronExpression) return c.json({ timeZone: agent.timeZone, items: [] }, 200);
    return c.json(
      previewFires({
        cronExpression: agent.cronExpression,
        timeZone: agent.timeZone,
        from: q.from ? new Date(q.from) : c.get('deps').clock.now(),
        count: q.n,
      }),
      200,
    );
  });
  app.openapi(routes.sessions, async (c) => {
    const p = c.req.valid('param') as { id: string; instanceId?: string };
    const q = c.req.valid('query');
    await getAgent(c.get('deps'), p.id, p.instanceId);
    const page = await listSessions(c.get('deps').db, p.id, {
      ...(q.trigger ? { trigger: q.trigger } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
      limit: q.limit,
    });
    return c.json(
      { items: page.items.map(sessionJson), nextCursor: page.next, prevCursor: page.prev },
      200,
    );
  });
  return app;
}
