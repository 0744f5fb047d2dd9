import { like } from 'drizzle-orm';
import { simQstashMessages } from '../../db/dev-schema/index.ts';
import { OPERATIONS_PATH } from '../../src/fleet/operations/model.ts';
import { STAGES_PATH } from '../../src/scheduler/model.ts';
import type { TestApp } from './app.ts';
import { qstashSignature } from './signing.ts';

/**
 * Posts a callback the way QStash delivers it (signed over the exact body and URL, with a
 * message id), over real HTTP to the test server. Resolves with the status and JSON body.
 */
export async function deliver(
  t: TestApp,
  path: string,
  body: Record<string, unknown>,
  messageId = `msg_test_${crypto.randomUUID()}`,
) {
  const url = t.url(path);
  const raw = JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Upstash-Signature': await qstashSignature({ url, body: raw }),
      'Upstash-Message-Id': messageId,
    },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const ringStageNow = (t: TestApp, stageId: string, messageId?: string) =>
  deliver(t, STAGES_PATH, { stageId }, messageId);

export const ringOperationNow = (t: TestApp, operationId: string, messageId?: string) =>
  deliver(t, OPERATIONS_PATH, { operationId }, messageId);

/** Runs the every-minute sweep now. */
export const sweepNow = async (t: TestApp) =>
  (await deliver(t, '/api/callbacks/sweep', {})).body as {
    found: number;
    rerung: number;
    leasesReturned: number;
  };

/** Messages the app published to the QStash emulator for `path` whose body names `id`. */
export async function publishedFor(t: TestApp, path: string, id: string) {
  const rows = await t.db.db
    .select({
      messageId: simQstashMessages.messageId,
      body: simQstashMessages.bodyBase64,
      createdAt: simQstashMessages.createdAt,
      notBefore: simQstashMessages.notBefore,
    })
    .from(simQstashMessages)
    .where(like(simQstashMessages.destination, `%${path}`));
  return rows.filter((r) => atob(r.body).includes(id));
}

/** Fly updates a machine received from us (the simulator's `update` events by `user`). */
export async function userUpdates(t: TestApp, machineId: string): Promise<number> {
  const events = await t.deps.fly.listMachineEvents(t.deps.config.fly.appName, machineId);
  return events.filter((e) => e.type === 'update' && e.source === 'user').length;
}
