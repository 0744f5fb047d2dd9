import { Hono } from 'hono';
import { z } from 'zod';
import { fireAgent, runSessionStep } from '../../src/triggers/fire.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const FireBody = z.object({ agentId: z.uuid(), fireAt: z.iso.datetime() });
const SessionBody = z.object({ sessionId: z.uuid() });

/**
 * `POST /api/callbacks/agent-fires`: an agent's fire time has come. Answers 200 once the
 * claim is committed and its sessions were started (a duplicate or stale doorbell changes
 * nothing; an early one rang itself again for the fire time); an unknown agent is dropped.
 *
 * `POST /api/callbacks/agent-sessions`: start or poll one agent session.
 */
export function agentTriggerRoutes() {
  return new Hono<AppEnv>()
    .post('/agent-fires', async (c) => {
      const body = callbackBody(c, FireBody);
      if (isOutcome(body)) return respond(c, body);
      const run = await fireAgent(c.get('deps'), {
        agentId: body.agentId,
        fireAt: new Date(body.fireAt),
      });
      if (run.outcome === 'nothing' && run.reason === 'unknown')
        return respond(c, { outcome: 'drop', reason: 'unknown agent' });
      return respond(c, {
        outcome: 'done',
        result: {
          ...run,
          ...('next' in run ? { next: run.next?.toISOString() ?? null } : {}),
          ...('dueAt' in run ? { dueAt: run.dueAt.toISOString() } : {}),
        },
      });
    })
    .post('/agent-sessions', async (c) => {
      const body = callbackBody(c, SessionBody);
      if (isOutcome(body)) return respond(c, body);
      const run = await runSessionStep(c.get('deps'), body.sessionId);
      if (run.outcome === 'unknown')
        return respond(c, { outcome: 'drop', reason: 'unknown session' });
      return respond(c, {
        outcome: 'done',
        result: { ...run, ...('dueAt' in run ? { dueAt: run.dueAt.toISOString() } : {}) },
      });
    });
}
