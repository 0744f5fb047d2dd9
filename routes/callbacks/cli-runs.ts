import { Hono } from 'hono';
import { z } from 'zod';
import { followCliRun } from '../../src/cli-runs/follow.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ runId: z.uuid() });

/**
 * `POST /api/callbacks/cli-runs`: one poll of a live CLI run. Answers 200 once what it
 * learned is committed (a duplicate or late doorbell is a no-op; an early one rang itself
 * again for the due time); an unknown run is dropped.
 */
export function cliRunsRoute() {
  return new Hono<AppEnv>().post('/cli-runs', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await followCliRun(c.get('deps'), { runId: body.runId });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown CLI run' });
    return respond(c, {
      outcome: 'done',
      result: {
        run: run.outcome,
        ...('run' in run ? { status: run.run.status } : {}),
        ...(run.outcome === 'early' ? { dueAt: run.dueAt.toISOString() } : {}),
      },
    });
  });
}
