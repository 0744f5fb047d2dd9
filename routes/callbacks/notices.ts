import { Hono } from 'hono';
import { z } from 'zod';
import { runDispatch } from '../../src/notices/run.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

// The body names what rang it (for its deduplication); the dispatch takes whatever is due.
const Body = z.object({ actionId: z.uuid().optional(), dueAt: z.iso.datetime().optional() });

/**
 * `POST /api/callbacks/notices`: notices are due. Sends what is due within the step
 * budget and answers 200 once the outcomes are recorded; when work is left (budget spent,
 * or a provider's rate limit says wait) it rings its own continuation first. A duplicate
 * or early doorbell finds nothing to claim and changes nothing.
 */
export function noticesRoute() {
  return new Hono<AppEnv>().post('/notices', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runDispatch(c.get('deps'), {
      dueAt: body.dueAt ? new Date(body.dueAt) : null,
      actionId: body.actionId ?? null,
    });
    return respond(c, {
      outcome: 'done',
      result: {
        ...run,
        continueAt: run.continueAt?.toISOString() ?? null,
        retryAt: run.retryAt?.toISOString() ?? null,
      },
    });
  });
}
