import { eq } from 'drizzle-orm';
import {
  agentSessions,
  agents,
  type CatchupPolicy,
  type OverlapPolicy,
} from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { instanceTargets } from '../fleet/instances.ts';
import { NotFoundError, PreconditionFailedError, UnprocessableError } from '../lib/errors.ts';
import { nextFireAfter, parseSchedule, type ScheduleProblem } from './cron.ts';
import { skipBuffered } from './follow.ts';
import { type Agent, type AgentSession, fireDoorbell, getAgentRow } from './model.ts';
import { startSession } from './start.ts';

export type AgentInput = {
  name: string;
  prompt: string;
  cronExpression: string | null;
  /** Default: the instance's user's zone. */
  timeZone?: string;
  enabled: boolean;
  overlapPolicy: OverlapPolicy;
  catchupPolicy: CatchupPolicy;
  catchupWindowSeconds: number;
};

export type AgentPatch = Partial<AgentInput>;

/** A 422 naming the field: `cronExpression: 6 fields given; expected 5 (…)`. */
export function scheduleError(problem: ScheduleProblem): UnprocessableError {
  return new UnprocessableError(
    `${problem.field}: ${problem.message}.`,
    { errors: [{ path: problem.field, message: problem.message }] },
    'invalid-schedule',
  );
}

/** The stored expression and zone, and the first fire time after `now` (null: none, or paused). */
function resolveSchedule(
  input: { cronExpression: string | null; timeZone: string; enabled: boolean },
  now: Date,
) {
  if (input.cronExpression === null)
    return { cronExpression: null, timeZone: validZone(input.timeZone), nextFireAt: null };
  const parsed = parseSchedule(input.cronExpression, input.timeZone);
  if (!parsed.ok) throw scheduleError(parsed.problem);
  return {
    cronExpression: parsed.schedule.expression,
    timeZone: parsed.schedule.timeZone,
    nextFireAt: input.enabled ? nextFireAfter(parsed.schedule, now) : null,
  };
}

function validZone(zone: string): string {
  const parsed = parseSchedule('0 0 * * *', zone);
  if (!parsed.ok) throw scheduleError(parsed.problem);
  return parsed.schedule.timeZone;
}

async function ringFire(ctx: Ctx, agent: Agent): Promise<void> {
  if (!agent.enabled || !agent.nextFireAt) return;
  try {
    await ctx.doorbells.ring(fireDoorbell(agent.id, agent.nextFireAt));
  } catch (err) {
    // The sweep fires it (30 s late) if this doorbell is lost.
    ctx.log.warn('agent.ring_failed', { agentId: agent.id, error: err });
  }
}

/**
 * Creates an agent on an instance. Throws NotFoundError for an unknown instance, 422
 * `invalid-schedule` naming `cronExpression` or `timeZone` when they do not parse together.
 * Its first fire time's doorbell is rung after the commit.
 */
export async function createAgent({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: AgentInput & { instanceId: string };
}): Promise<Agent> {
  const target = (await instanceTargets(ctx.db, [input.instanceId])).get(input.instanceId);
  if (!target) throw new NotFoundError('Instance', input.instanceId);
  const now = ctx.clock.now();
  const schedule = resolveSchedule(
    { ...input, timeZone: input.timeZone ?? target.userTimeZone },
    now,
  );
  const agent = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(agents)
      .values({
        instanceId: input.instanceId,
        name: input.name,
        prompt: input.prompt,
        enabled: input.enabled,
        overlapPolicy: input.overlapPolicy,
        catchupPolicy: input.catchupPolicy,
        catchupWindowSeconds: input.catchupWindowSeconds,
        ...schedule,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, ctx, {
      action: 'agent.create',
      subjectType: 'agent',
      subjectId: row.id,
      payload: {
        instanceId: row.instanceId,
        name: row.name,
        cronExpression: row.cronExpression,
        timeZone: row.timeZone,
      },
    });
    return row;
  });
  await ringFire(ctx, agent);
  return agent;
}

/** The agent, or NotFoundError (also when `instanceId` is given and it is another instance's). */
export async function getAgent(
  ctx: Pick<Ctx, 'db'>,
  id: string,
  instanceId?: string,
): Promise<Agent> {
  const agent = await getAgentRow(ctx.db, id);
  if (!agent || (instanceId && agent.instanceId !== instanceId))
    throw new NotFoundError('Agent', id);
  return agent;
}

/**
 * Changes an agent. A new expression, zone or enabled state recomputes `next_fire_at` from
 * now and rings its doorbell (the old doorbell finds a fire time the agent no longer has and
 * does nothing); re-enabling clears `disabled_reason`; pausing turns a buffered fire into a
 * `skipped` session (`agent_disabled`). Same errors as {@link createAgent}.
 */
export async function updateAgent({
  ctx,
  id,
  instanceId,
  patch,
  action = 'agent.update',
  precondition,
}: {
  ctx: Ctx;
  id: string;
  instanceId?: string;
  patch: AgentPatch;
  action?: string;
  /**
   * Checked against the agent as it is, under its row lock, before anything changes (an
   * `If-Match` compare-and-set): false throws PreconditionFailedError (412).
   */
  precondition?: (current: Agent) => boolean | Promise<boolean>;
}): Promise<Agent> {
  const now = ctx.clock.now();
  const agent = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(agents).where(eq(agents.id, id)).for('update');
    if (!current || (instanceId && current.instanceId !== instanceId))
      throw new NotFoundError('Agent', id);
    if (precondition && !(await precondition(current)))
      throw new PreconditionFailedError(
        'The agent changed since the version named in If-Match; read it again.',
        { agentId: id },
      );
    const merged = {
      cronExpression:
        patch.cronExpression === undefined ? current.cronExpression : patch.cronExpression,
      timeZone: patch.timeZone ?? current.timeZone,
      enabled: patch.enabled ?? current.enabled,
    };
    const scheduleChanged =
      merged.cronExpression !== current.cronExpression ||
      merged.timeZone !== current.timeZone ||
      merged.enabled !== current.enabled;
    const schedule = scheduleChanged ? resolveSchedule(merged, now) : {};
    const [row] = await tx
      .update(agents)
      .set({
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.prompt === undefined ? {} : { prompt: patch.prompt }),
        ...(patch.overlapPolicy === undefined ? {} : { overlapPolicy: patch.overlapPolicy }),
        ...(patch.catchupPolicy === undefined ? {} : { catchupPolicy: patch.catchupPolicy }),
        ...(patch.catchupWindowSeconds === undefined
          ? {}
          : { catchupWindowSeconds: patch.catchupWindowSeconds }),
        ...schedule,
        enabled: merged.enabled,
        ...(merged.enabled && !current.enabled ? { disabledReason: null } : {}),
        updatedAt: now,
      })
      .where(eq(agents.id, id))
      .returning();
    if (!row) throw new NotFoundError('Agent', id);
    if (!row.enabled && current.enabled) await skipBuffered(tx, id, now);
    await recordAudit(tx, ctx, {
      action,
      subjectType: 'agent',
      subjectId: id,
      payload: { changed: Object.keys(patch), nextFireAt: row.nextFireAt?.toISOString() ?? null },
    });
    return row;
  });
  await ringFire(ctx, agent);
  return agent;
}

/** Pauses (`enabled` false, no next fire) or resumes (next fire from now) an agent. */
export function setAgentEnabled(args: {
  ctx: Ctx;
  id: string;
  instanceId?: string;
  enabled: boolean;
}) {
  return updateAgent({
    ctx: args.ctx,
    id: args.id,
    ...(args.instanceId ? { instanceId: args.instanceId } : {}),
    patch: { enabled: args.enabled },
    action: args.enabled ? 'agent.resume' : 'agent.pause',
  });
}

/** Deletes an agent and its session history. NotFoundError when it does not exist. */
export async function deleteAgent({
  ctx,
  id,
  instanceId,
}: {
  ctx: Ctx;
  id: string;
  instanceId?: string;
}) {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(agents).where(eq(agents.id, id)).for('update');
    if (!row || (instanceId && row.instanceId !== instanceId)) throw new NotFoundError('Agent', id);
    await tx.delete(agents).where(eq(agents.id, id));
    await recordAudit(tx, ctx, {
      action: 'agent.delete',
      subjectType: 'agent',
      subjectId: id,
      payload: { instanceId: row.instanceId, name: row.name },
    });
  });
}

/**
 * "Run now": a session with trigger `manual` for now, started at once through the controller
 * whatever the overlap policy; the agent's next fire time and `last_fired_at` stay as they
 * are. Returns the session as the start left it (`ready`, `creating`, `skipped` when the
 * instance is not running, `failed` with its error after the last attempt, or `creating`
 * with a retry due).
 */
export async function runAgentNow({
  ctx,
  id,
  instanceId,
}: {
  ctx: Ctx;
  id: string;
  instanceId?: string;
}): Promise<AgentSession> {
  const now = ctx.clock.now();
  const session = await ctx.db.transaction(async (tx) => {
    const [agent] = await tx.select().from(agents).where(eq(agents.id, id));
    if (!agent || (instanceId && agent.instanceId !== instanceId))
      throw new NotFoundError('Agent', id);
    const [row] = await tx
      .insert(agentSessions)
      .values({
        agentId: agent.id,
        instanceId: agent.instanceId,
        trigger: 'manual',
        scheduledFor: now,
        status: 'creating',
        prompt: agent.prompt,
        nextCheckAt: now,
        createdAt: now,
      })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, ctx, {
      action: 'agent.run',
      subjectType: 'agent',
      subjectId: agent.id,
      payload: { sessionId: row.id },
    });
    return row;
  });
  const run = await startSession(ctx, session.id);
  return run.outcome === 'not_claimed' ? session : run.session;
}
