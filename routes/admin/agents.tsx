import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { instanceNames, listInstances } from '../../src/fleet/instances.ts';
import { AppError } from '../../src/lib/errors.ts';
import {
  createAgent,
  deleteAgent,
  getAgent,
  runAgentNow,
  setAgentEnabled,
  updateAgent,
} from '../../src/triggers/agents.ts';
import { allTimeZones, nextFireTimes, parseSchedule } from '../../src/triggers/cron.ts';
import { describeExpression, PRESETS } from '../../src/triggers/describe.ts';
import {
  CATCHUP_POLICIES,
  DEFAULT_CATCHUP_WINDOW_SECONDS,
  MAX_CATCHUP_WINDOW_SECONDS,
  OVERLAP_POLICIES,
} from '../../src/triggers/model.ts';
import { agentZones, listAgents, listSessions } from '../../src/triggers/queries.ts';
import { AgentPage } from '../../views/agents/detail.tsx';
import {
  AgentEditor,
  CronPreview,
  type EditorValues,
  type PreviewView,
  saveErrorText,
} from '../../views/agents/editor.tsx';
import { AgentsPage } from '../../views/agents/list.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const opt = (max: number) => z.preprocess(emptyAsAbsent, z.string().trim().max(max).optional());

const ListQuery = z.object({
  q: opt(200),
  enabled: z.preprocess(emptyAsAbsent, z.enum(['true', 'false']).optional()),
  timeZone: opt(64),
  instance: z.preprocess(emptyAsAbsent, z.uuid().optional()),
  order: z.preprocess(emptyAsAbsent, z.enum(['asc', 'desc']).default('asc')),
  cursor: opt(1000),
});

const AgentForm = z.object({
  instance: z.preprocess(emptyAsAbsent, z.uuid().optional()),
  name: z.string().trim().min(1, 'required').max(200),
  prompt: z.string().min(1, 'required').max(10_000),
  cronExpression: z.string().max(200).default(''),
  timeZone: z.string().trim().max(64),
  enabled: z.string().optional(),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  catchupPolicy: z.enum(CATCHUP_POLICIES),
  catchupWindowMinutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CATCHUP_WINDOW_SECONDS / 60)
    .default(DEFAULT_CATCHUP_WINDOW_SECONDS / 60),
});

const PreviewForm = z.object({
  cronExpression: z.string().max(200).default(''),
  timeZone: z.string().max(64).default('UTC'),
  preset: z.string().max(120).optional(),
});

/** The live preview: the expression in words and its next 5 fire times from now. */
function previewOf(expression: string, zone: string, now: Date): PreviewView {
  if (!expression.trim()) return { ok: 'none' };
  const parsed = parseSchedule(expression, zone);
  if (!parsed.ok) return { ok: false, ...parsed.problem };
  return {
    ok: true,
    description: describeExpression(parsed.schedule.expression),
    times: nextFireTimes(parsed.schedule, now, 5),
    zone: parsed.schedule.timeZone,
  };
}

const toInput = (f: z.infer<typeof AgentForm>) => ({
  name: f.name,
  prompt: f.prompt,
  cronExpression: f.cronExpression.trim() || null,
  timeZone: f.timeZone,
  enabled: f.enabled === 'on',
  overlapPolicy: f.overlapPolicy,
  catchupPolicy: f.catchupPolicy,
  catchupWindowSeconds: f.catchupWindowMinutes * 60,
});

const valuesOf = (f: z.infer<typeof AgentForm>): EditorValues => ({
  name: f.name,
  prompt: f.prompt,
  instance: f.instance ?? '',
  cronExpression: f.cronExpression,
  timeZone: f.timeZone,
  enabled: f.enabled === 'on',
  overlapPolicy: f.overlapPolicy,
  catchupPolicy: f.catchupPolicy,
  catchupWindowMinutes: f.catchupWindowMinutes,
});

/** Console: agents and their cron triggers (list, editor with live preview, sessions). */
export function agentConsoleRoutes() {
  const app = new Hono<AppEnv>();
  const page = (title: string) => ({ title, active: 'agents' as const });
  const pickInstances = async (c: { get: (k: 'deps') => AppEnv['Variables']['deps'] }) =>
    (await listInstances(c.get('deps').db, { sort: 'name', order: 'asc', limit: 200 })).items.map(
      (i) => ({
        id: i.id,
        name: i.name,
      }),
    );

  app.get('/', htmlValidator('query', ListQuery), async (c) => {
    const { db, clock } = c.get('deps');
    const q = c.req.valid('query');
    const [agentsPage, zones, instances] = await Promise.all([
      listAgents(db, {
        ...(q.q ? { q: q.q } : {}),
        ...(q.enabled ? { enabled: q.enabled === 'true' } : {}),
        ...(q.timeZone ? { timeZone: q.timeZone } : {}),
        ...(q.instance ? { instanceId: q.instance } : {}),
        sort: 'next_fire',
        order: q.order,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: 50,
      }),
      agentZones(db),
      pickInstances(c),
    ]);
    const names = await instanceNames(
      db,
      agentsPage.items.map((a) => a.instanceId),
    );
    const { cursor: _, ...query } = q;
    return c.render(
      <AgentsPage
        rows={agentsPage.items.map((a) => ({
          ...a,
          instanceName: names.get(a.instanceId) ?? a.instanceId,
          description: a.cronExpression ? describeExpression(a.cronExpression) : null,
        }))}
        next={agentsPage.next}
        prev={agentsPage.prev}
        query={query}
        zones={zones}
        instances={instances}
        zone={zoneOf(c)}
        readAt={clock.now()}
      />,
      page('Agents'),
    );
  });

  const newValues = (zone: string, instance = ''): EditorValues => ({
    name: '',
    prompt: '',
    instance,
    cronExpression: '0 9 * * *',
    timeZone: zone,
    enabled: true,
    overlapPolicy: 'skip',
    catchupPolicy: 'skip',
    catchupWindowMinutes: 60,
  });
  const renderNew = async (c: Context<AppEnv>, values: EditorValues, error?: string) =>
    c.render(
      <>
        <p class="small">
          <a href="/admin/agents">← Agents</a>
        </p>
        <h1>New agent</h1>
        <AgentEditor
          action="/admin/agents"
          values={values}
          presets={PRESETS}
          zones={allTimeZones()}
          preview={previewOf(values.cronExpression, values.timeZone, c.get('deps').clock.now())}
          viewerZone={zoneOf(c)}
          instances={await pickInstances(c)}
          error={error ?? null}
        />
      </>,
      page('New agent'),
    );

  app.get('/new', (c) => renderNew(c, newValues(zoneOf(c), c.req.query('instance') ?? '')));

  app.post('/preview', htmlValidator('form', PreviewForm), (c) => {
    const f = c.req.valid('form');
    const expression = f.preset ?? f.cronExpression;
    return c.html(
      <CronPreview
        preview={previewOf(expression, f.timeZone, c.get('deps').clock.now())}
        viewerZone={zoneOf(c)}
        {...(f.preset !== undefined ? { expression: f.preset } : {})}
      />,
    );
  });

  app.post('/', htmlValidator('form', AgentForm), async (c) => {
    const f = c.req.valid('form');
    if (!f.instance)
      throw new AppError(400, 'invalid-request', 'Invalid request', 'instance: required');
    try {
      const agent = await createAgent({
        ctx: ctxOf(c),
        input: { ...toInput(f), instanceId: f.instance },
      });
      return redirectWithFlash(c, `/admin/agents/${agent.id}`, {
        tone: 'ok',
        text: `Agent ${agent.name} created.`,
      });
    } catch (err) {
      if (err instanceof AppError && err.status === 422) {
        c.status(422);
        return renderNew(c, valuesOf(f), saveErrorText(err));
      }
      throw err;
    }
  });

  const renderAgent = async (
    c: Context<AppEnv>,
    id: string,
    form?: { values: EditorValues; error: string },
  ) => {
    const deps = c.get('deps');
    const agent = await getAgent(deps, id);
    const cursor = c.req.query('cursor');
    const [sessions, names] = await Promise.all([
      listSessions(deps.db, id, { limit: 20, ...(cursor ? { cursor } : {}) }),
      instanceNames(deps.db, [agent.instanceId]),
    ]);
    const values: EditorValues = form?.values ?? {
      name: agent.name,
      prompt: agent.prompt,
      instance: agent.instanceId,
      cronExpression: agent.cronExpression ?? '',
      timeZone: agent.timeZone,
      enabled: agent.enabled,
      overlapPolicy: agent.overlapPolicy,
      catchupPolicy: agent.catchupPolicy,
      catchupWindowMinutes: Math.round(agent.catchupWindowSeconds / 60),
    };
    return c.render(
      <>
        {form ? (
          <div class="flash flash-error" role="alert">
            {form.error}
          </div>
        ) : null}
        <AgentPage
          agent={{ ...agent, instanceName: names.get(agent.instanceId) ?? agent.instanceId }}
          values={values}
          presets={PRESETS}
          zones={allTimeZones()}
          preview={previewOf(values.cronExpression, values.timeZone, deps.clock.now())}
          zone={zoneOf(c)}
          sessions={sessions.items}
          next={sessions.next}
          prev={sessions.prev}
        />
      </>,
      page(agent.name),
    );
  };

  const Id = z.object({ id: z.uuid() });
  app.get('/:id', htmlValidator('param', Id), (c) => renderAgent(c, c.req.valid('param').id));

  app.post('/:id', htmlValidator('param', Id), htmlValidator('form', AgentForm), async (c) => {
    const { id } = c.req.valid('param');
    const f = c.req.valid('form');
    try {
      const agent = await updateAgent({ ctx: ctxOf(c), id, patch: toInput(f) });
      return redirectWithFlash(c, `/admin/agents/${id}`, {
        tone: 'ok',
        text: `Agent ${agent.name} saved.`,
      });
    } catch (err) {
      if (err instanceof AppError && err.status === 422) {
        c.status(422);
        return renderAgent(c, id, { values: valuesOf(f), error: saveErrorText(err) });
      }
      throw err;
    }
  });

  app.post('/:id/run', htmlValidator('param', Id), async (c) => {
    const { id } = c.req.valid('param');
    const session = await runAgentNow({ ctx: ctxOf(c), id });
    const text =
      session.status === 'ready' || session.status === 'creating'
        ? 'Session started.'
        : `Session ${session.status}${session.lastError ? `: ${session.lastError}` : ''}.`;
    return redirectWithFlash(c, `/admin/agents/${id}#sessions`, {
      tone: session.status === 'failed' ? 'error' : 'ok',
      text,
    });
  });

  for (const enabled of [false, true])
    app.post(`/:id/${enabled ? 'resume' : 'pause'}`, htmlValidator('param', Id), async (c) => {
      const { id } = c.req.valid('param');
      const agent = await setAgentEnabled({ ctx: ctxOf(c), id, enabled });
      return redirectWithFlash(c, `/admin/agents/${id}`, {
        tone: 'ok',
        text: enabled
          ? `Agent ${agent.name} resumed.`
          : `Agent ${agent.name} paused: it fires nothing until resumed.`,
      });
    });

  app.post('/:id/delete', htmlValidator('param', Id), async (c) => {
    const { id } = c.req.valid('param');
    const agent = await getAgent(c.get('deps'), id);
    await deleteAgent({ ctx: ctxOf(c), id });
    return redirectWithFlash(c, '/admin/agents', {
      tone: 'ok',
      text: `Agent ${agent.name} deleted.`,
    });
  });

  return app;
}
