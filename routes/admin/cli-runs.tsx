import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { listAudit } from '../../src/audit/audit.ts';
import { cancelCliRun } from '../../src/cli-runs/cancel.ts';
import {
  CLI_RUN_SORTS,
  CLI_RUN_STATUSES,
  countCliRuns,
  getCliRun,
  listCliRuns,
  outputAfter,
} from '../../src/cli-runs/queries.ts';
import { startCliRun } from '../../src/cli-runs/start.ts';
import { AppError } from '../../src/lib/errors.ts';
import { CliRunPage, CliRunsPage, CliRunsTable } from '../../views/pages/cli-runs.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const IdParam = z.object({ id: z.uuid() });
const Query = z.object({
  status: z.preprocess(emptyAsAbsent, z.enum(CLI_RUN_STATUSES).optional()),
  initiatedBy: z.preprocess(emptyAsAbsent, z.enum(['admin', 'user']).optional()),
  q: z.preprocess(emptyAsAbsent, z.string().trim().max(200).optional()),
  sort: z.preprocess(emptyAsAbsent, z.enum(CLI_RUN_SORTS).default('created')),
  order: z.preprocess(emptyAsAbsent, z.enum(['asc', 'desc']).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
  limit: z.preprocess(emptyAsAbsent, z.coerce.number().int().min(1).max(200).default(50)),
});

/** How long one event stream stays open (ms); the browser's EventSource reconnects after. */
const STREAM_MS = 55_000;
/** How often a stream reads the run while it is live (ms). */
const STREAM_EVERY_MS = 1_000;

/** Runs a verb and comes back with a one-shot message: what happened, or why not. */
async function act(c: Context<AppEnv>, back: string, run: () => Promise<unknown>, done: string) {
  try {
    await run();
  } catch (err) {
    if (err instanceof AppError && [409, 422, 502].includes(err.status))
      return redirectWithFlash(c, back, { tone: 'error', text: err.message });
    throw err;
  }
  return redirectWithFlash(c, back, { tone: 'ok', text: done });
}

/** Console: the CLI runs page, one run (with its live output stream), cancel. */
export function cliRunConsoleRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', htmlValidator('query', Query), async (c) => {
    const { db, clock } = c.get('deps');
    const q = c.req.valid('query');
    const order = q.order ?? (q.sort === 'created' ? 'desc' : 'asc');
    const filter = {
      status: q.status ? [q.status] : undefined,
      initiatedBy: q.initiatedBy,
      q: q.q,
    };
    const [page, total] = await Promise.all([
      listCliRuns(db, { ...filter, sort: q.sort, order, cursor: q.cursor, limit: q.limit }),
      countCliRuns(db, filter),
    ]);
    const props = {
      rows: page.items,
      total,
      next: page.next,
      prev: page.prev,
      query: {
        status: q.status,
        initiatedBy: q.initiatedBy,
        q: q.q,
        sort: q.sort,
        order,
        ...(q.limit !== 50 ? { limit: String(q.limit) } : {}),
      },
      statuses: CLI_RUN_STATUSES,
      readAt: clock.now(),
      zone: zoneOf(c),
    };
    // The table alone for htmx (sort links, pager); the whole page otherwise.
    if (c.req.header('HX-Request') && c.req.header('HX-Target') === 'cli-runs-table')
      return c.html(<CliRunsTable {...props} />);
    return c.render(<CliRunsPage {...props} />, { title: 'CLI runs', active: 'cli-runs' });
  });

  app.get('/:id', htmlValidator('param', IdParam), async (c) => {
    const { db } = c.get('deps');
    const run = await getCliRun(db, c.req.valid('param').id);
    const audit = await listAudit(db, { subjectType: 'cli_run', subjectId: run.id, limit: 20 });
    return c.render(<CliRunPage run={run} audit={audit.items} zone={zoneOf(c)} />, {
      title: `CLI run on ${run.instanceName}`,
      active: 'cli-runs',
    });
  });

  /**
   * Server-sent events (Hono's streaming helper) while a run is live: `output` events with
   * the text after the browser's offset (`Last-Event-ID`, else `?after=`; the event id is
   * the new offset), `status` when it changes, and `end` once it has ended. The stream
   * closes after 55 s; EventSource reconnects with the last id, so nothing is sent twice.
   */
  app.get('/:id/events', htmlValidator('param', IdParam), async (c) => {
    const { db } = c.get('deps');
    const id = c.req.valid('param').id;
    const first = await getCliRun(db, id);
    const from = Number(c.req.header('Last-Event-ID') ?? c.req.query('after') ?? '0');
    let after = Number.isSafeInteger(from) && from >= 0 ? from : 0;
    return streamSSE(c, async (stream) => {
      let status = '';
      let run = first;
      const until = Date.now() + STREAM_MS;
      for (;;) {
        if (run.outputSize > after) {
          const out = outputAfter(run, after);
          await stream.writeSSE({
            event: 'output',
            data: JSON.stringify({ text: out.text, truncated: out.truncated, size: out.size }),
            id: String(out.size),
          });
          after = out.size;
        }
        if (run.status !== status) {
          status = run.status;
          await stream.writeSSE({ event: 'status', data: status });
        }
        if (run.status !== 'starting' && run.status !== 'running') {
          await stream.writeSSE({ event: 'end', data: run.status });
          return;
        }
        if (stream.aborted || Date.now() > until) return;
        await stream.sleep(STREAM_EVERY_MS);
        run = await getCliRun(db, id);
      }
    });
  });

  app.post(
    '/:id/cancel',
    htmlValidator('param', IdParam),
    htmlValidator('query', z.object({ from: z.enum(['instance', 'run']).optional() })),
    async (c) => {
      const ctx = ctxOf(c);
      const run = await getCliRun(ctx.db, c.req.valid('param').id);
      const back =
        c.req.valid('query').from === 'instance'
          ? `/admin/instances/${run.instanceId}`
          : `/admin/cli-runs/${run.id}`;
      return act(
        c,
        back,
        () => cancelCliRun({ ctx, input: { runId: run.id, initiatedBy: 'admin' } }),
        'The CLI run was cancelled, or had already ended: its status says which.',
      );
    },
  );
  return app;
}

/** Console: `POST /admin/instances/:id/cli-runs`, start a run from the instance's page. */
export function instanceCliRunRoutes() {
  const app = new Hono<AppEnv>();
  app.post(
    '/:id/cli-runs',
    htmlValidator('param', IdParam),
    htmlValidator('form', z.object({ prompt: z.string().trim().min(1).max(10_000) })),
    async (c) => {
      const { id } = c.req.valid('param');
      return act(
        c,
        `/admin/instances/${id}`,
        () =>
          startCliRun({
            ctx: ctxOf(c),
            input: { instanceId: id, prompt: c.req.valid('form').prompt, initiatedBy: 'admin' },
          }),
        'CLI run started. Its output appears under CLI run as it arrives.',
      );
    },
  );
  return app;
}
