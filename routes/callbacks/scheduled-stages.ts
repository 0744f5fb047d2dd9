import { Hono } from 'hono';
import { z } from 'zod';
import { runStage } from '../../src/scheduler/run-stage.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ stageId: z.uuid() });

/**
 * `POST /api/callbacks/scheduled-stages`: a stage of a scheduled action is due (or has more
 * to do). Answers 200 once its claims and started operations are committed; duplicates
 * and stale doorbells change nothing; an unknown stage is dropped.
 */
export function scheduledStagesRoute() {
  return new Hono<AppEnv>().post('/scheduled-stages', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runStage(c.get('deps'), { stageId: body.stageId });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown stage' });
    return respond(c, { outcome: 'done', result: { ...run } });
  });
}
