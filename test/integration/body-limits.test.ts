import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, makeApiKey } from '../helpers/factories.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A body of `total` bytes streamed in 64 KiB chunks (no Content-Length), counting what was read. */
function streamed(total: number) {
  const chunk = new Uint8Array(64 * KiB).fill(0x61);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { body, sent: () => sent };
}

// Limits by route group (hono/body-limit), checked before authentication, so no
// unauthenticated client can make the app hold a large body.
describe('request body limits', async () => {
  const t = await createTestApp();

  it('refuses a callback body over 1 MiB with a 413 problem, before the signature check', async () => {
    const res = await t.app.request(t.url('/api/callbacks/sweep'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(MiB + 1) },
      body: 'x'.repeat(MiB + 1),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      type: '/problems/payload-too-large',
      status: 413,
      limitBytes: MiB,
    });
  });

  it('stops reading a chunked 100 MB body soon after the limit', async () => {
    const big = streamed(100 * MiB);
    const res = await t.app.request(t.url('/api/callbacks/sweep'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: big.body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(big.sent()).toBeLessThan(MiB + 256 * KiB);
  });

  it('refuses a JSON API body over 1 MiB before authentication; a smaller one gets that far', async () => {
    const over = await t.app.request(t.url('/api/admin/images'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ imageTag: 'x'.repeat(MiB) }),
    });
    expect(over.status).toBe(413);
    expect(over.headers.get('content-type')).toBe('application/problem+json');
    const under = await t.app.request(t.url('/api/admin/images'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ imageTag: 'x'.repeat(900 * KiB) }),
    });
    expect(under.status).toBe(401);
  });

  it('accepts a schedule request with 20,000 instance ids (the largest JSON body)', async () => {
    const { key } = await makeApiKey(t, 'admin');
    const ids = Array.from({ length: 20_000 }, () => crypto.randomUUID());
    const res = await t.app.request(t.url('/api/admin/scheduled-actions/preview'), {
      method: 'POST',
      headers: { ...bearer(key), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        actionType: 'restart',
        instances: { ids },
        runAt: 'now',
        reason: 'size check',
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).exclusions.notFound).toHaveLength(20_000);
  });

  it('limits the sign-in form to 16 KiB', async () => {
    const form = (password: string) =>
      t.app.request(t.url('/admin/login'), {
        method: 'POST',
        headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'nobody@example.test', password }),
      });
    const over = await form('p'.repeat(16 * KiB));
    expect(over.status).toBe(413);
    expect(over.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await over.text()).toContain('Payload too large');
    expect((await form('p'.repeat(1000))).status).toBe(401);
  });

  it('limits other console forms to 1 MiB', async () => {
    const { cookie } = await adminSession(t);
    const res = await t.app.request(t.url('/admin/settings/api-keys'), {
      method: 'POST',
      headers: {
        Origin: t.origin,
        Cookie: cookie,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ kind: 'admin', label: 'l'.repeat(MiB) }),
    });
    expect(res.status).toBe(413);
  });
});
