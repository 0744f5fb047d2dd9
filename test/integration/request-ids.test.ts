import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeAdmin, TEST_PASSWORD } from '../helpers/factories.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Our request id is always ours; a client's X-Request-Id is only kept beside it, in the log.
describe('request ids', async () => {
  const t = await createTestApp();
  const signIn = (email: string, requestId: string) =>
    t.app.request(t.url('/admin/login'), {
      method: 'POST',
      headers: {
        Origin: t.origin,
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Request-Id': requestId,
      },
      body: new URLSearchParams({ email, password: TEST_PASSWORD }),
    });
  const logLine = (requestId: string) =>
    t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'http.request' && l.requestId === requestId);

  it("never takes the client's id as ours, so an audit row cannot borrow another request's id", async () => {
    const first = await signIn((await makeAdmin(t)).email, 'client-chosen-1');
    const firstId = first.headers.get('x-request-id') ?? '';
    expect(firstId).toMatch(UUID);
    // A second request claims the first one's id: the audit row still gets a new one.
    const admin = await makeAdmin(t);
    const second = await signIn(admin.email, firstId);
    expect(second.status).toBe(303);
    const secondId = second.headers.get('x-request-id') ?? '';
    expect(secondId).toMatch(UUID);
    expect(secondId).not.toBe(firstId);
    const [row] = await t.db.db.select().from(auditLog).where(eq(auditLog.actorId, admin.id));
    expect(row?.requestId).toBe(secondId);
    // The client's ids are kept beside ours in the request's log line.
    expect(logLine(firstId)?.clientRequestId).toBe('client-chosen-1');
    expect(logLine(secondId)?.clientRequestId).toBe(firstId);
  });

  it("drops a client's id that does not have the accepted shape", async () => {
    for (const bad of ['has space', 'x'.repeat(129), '-leading-dash', 'a/b', 'é']) {
      const res = await t.app.request(t.url('/healthz'), { headers: { 'X-Request-Id': bad } });
      const ours = res.headers.get('x-request-id') ?? '';
      expect(ours).toMatch(UUID);
      expect(logLine(ours)).toBeDefined();
      expect(logLine(ours)).not.toHaveProperty('clientRequestId');
    }
  });
});
