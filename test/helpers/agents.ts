import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { agentSessions, agents } from '../../db/schema/index.ts';
import { FIRES_PATH, SESSIONS_PATH } from '../../src/triggers/model.ts';
import type { TestApp } from './app.ts';
import { deliver } from './callbacks.ts';
import { makeApiKey, makeInstance } from './factories.ts';
import { api } from './fleet.ts';

/** An admin-API caller, a running instance and helpers to make and fire agents. */
export async function agentRig(t: TestApp) {
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const instance = await makeInstance(t);
  const create = async (over: Record<string, unknown> = {}) => {
    const res = await call('POST', '/agents', {
      instanceId: instance.id,
      name: `agent-${crypto.randomUUID().slice(0, 8)}`,
      prompt: 'Check the inbox and summarise it.',
      cronExpression: '*/5 * * * *',
      timeZone: 'UTC',
      ...over,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; nextFireAt: string | null; instanceId: string };
  };
  const agentRow = async (id: string) => {
    const [row] = await t.db.db.select().from(agents).where(eq(agents.id, id));
    if (!row) throw new Error('no agent');
    return row;
  };
  const sessionsOf = async (id: string) =>
    t.db.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.agentId, id))
      .orderBy(agentSessions.scheduledFor, agentSessions.createdAt);
  const fire = (agentId: string, fireAt: Date | string, messageId?: string) =>
    deliver(t, FIRES_PATH, { agentId, fireAt: new Date(fireAt).toISOString() }, messageId);
  const step = (sessionId: string) => deliver(t, SESSIONS_PATH, { sessionId });
  return { call, instance, create, agentRow, sessionsOf, fire, step };
}
