import { Hono } from 'hono';
import { z } from 'zod';
import { runStage } from '../../src/scheduler/run-stage.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ stageId: z.uuid() });

/**
 * `POST /api/callbacks/scheduled-stages`: a stage of a scheduled action is due (or has more
 * to do). Answers 200 once its claims and started operations are committed; duplicates
 * and stale doorbells change nothing; an early one has rung itself again for the stage's
 * due time; an unknown stage is dropped.
 */
export function scheduledStagesRoute() {
  return new Hono<AppEnv>().post('/scheduled-stages', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runStage(c.get('deps'), {
      stageId: body.stageId,
      messageId: c.get('callback')?.messageId ?? null,
    });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown stage' });
    if (run.outcome === 'early')
      return respond(c, {
        outcome: 'done',
        result: { outcome: 'early', dueAt: run.dueAt.toISOString() },
      });
    return respond(c, { outcome: 'done', result: { ...run } });
  });
}
