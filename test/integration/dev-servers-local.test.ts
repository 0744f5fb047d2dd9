import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { createTestApp } from '../helpers/app.ts';

// The stand-ins' credentials are published constants, so /__dev answers only this machine:
// a loopback socket, or the app dispatching to itself. `app.request` has no socket and
// comes from a documentation address (another machine).
describe('/__dev answers only clients on this machine', async () => {
  const t = await createTestApp({ serve: true, env: { TRUST_PROXY_HEADER: 'X-Forwarded-For' } });
  const keys = '/__dev/qstash/v2/keys';
  const qstashAuth = { Authorization: `Bearer ${LOCAL_QSTASH.token}` };
  const flyAuth = { Authorization: `Bearer ${t.deps.config.fly.token}` };

  it('refuses a remote client with a 403 problem, even with the right credentials', async () => {
    for (const [path, headers] of [
      [keys, qstashAuth],
      ['/__dev/fly/_faults', flyAuth],
      ['/__dev/fly/v1/apps/fleetwarden-agents/machines', flyAuth],
    ] as const) {
      const res = await t.app.request(t.url(path), { headers });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ type: '/problems/local-only' });
    }
  });

  it('ignores a proxy header claiming loopback: only the socket address counts', async () => {
    const res = await t.app.request(t.url(keys), {
      headers: { ...qstashAuth, 'X-Forwarded-For': '127.0.0.1' },
    });
    expect(res.status).toBe(403);
  });

  it('answers a loopback socket (a real connection to 127.0.0.1)', async () => {
    const res = await fetch(t.url(keys), { headers: qstashAuth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ current: LOCAL_QSTASH.currentSigningKey });
  });

  it('refuses a loopback client that names another host or port (DNS rebinding)', async () => {
    const port = new URL(t.origin).port;
    const viaSocket = (host: string) =>
      new Promise<number>((resolve, reject) => {
        // A raw request: fetch will not let a page (or us) choose the Host header.
        const req = httpRequest(
          { host: '127.0.0.1', port, path: keys, headers: { ...qstashAuth, Host: host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const host of [
      `rebind.evil.example:${port}`,
      'rebind.evil.example',
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
      `127.0.0.1.evil.example:${port}`,
    ])
      expect(await viaSocket(host), host).toBe(403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
      expect(await viaSocket(host), host).toBe(200);
  });

  it('reads the peer the way each runtime reports it', async () => {
    const as = (env: unknown) => t.app.request(t.url(keys), { headers: qstashAuth }, env);
    // @hono/node-server: the Node socket; IPv4 on a dual-stack socket is IPv4-mapped.
    expect((await as({ incoming: { socket: { remoteAddress: '::ffff:127.0.0.1' } } })).status).toBe(
      200,
    );
    expect((await as({ incoming: { socket: { remoteAddress: '::1' } } })).status).toBe(200);
    // Deno.serve: remoteAddr.
    expect((await as({ remoteAddr: { hostname: '127.0.0.1' } })).status).toBe(200);
    expect((await as({ remoteAddr: { hostname: '192.0.2.10' } })).status).toBe(403);
    expect((await as({ incoming: { socket: { remoteAddress: '::ffff:10.0.0.1' } } })).status).toBe(
      403,
    );
  });

  it('still serves the app itself: the Fly client reaches the simulator in-process', async () => {
    await t.deps.fly.createApp('local-only-check');
    expect((await t.deps.fly.getApp('local-only-check')).name).toBe('local-only-check');
  });
});
