import { describe, expect, it } from 'vitest';
import { createFlyClient } from '../../src/adapters/fly/client.ts';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';

type Seen = { method: string; url: URL; headers: Headers; body: unknown };

/** A fake API: records requests and answers from a queue (default 200 `{}`). */
function fakeApi(answers: (Response | Error)[] = []) {
  const seen: Seen[] = [];
  const slept: number[] = [];
  const client = createFlyClient({
    baseUrl: 'https://api.machines.dev/',
    token: 'tok',
    rateLimit: false,
    random: () => 0,
    sleep: async (ms) => {
      slept.push(ms);
    },
    fetch: async (input, init) => {
      const text = typeof init?.body === 'string' ? init.body : undefined;
      seen.push({
        method: init?.method ?? 'GET',
        url: new URL(String(input)),
        headers: new Headers(init?.headers),
        body: text === undefined ? undefined : JSON.parse(text),
      });
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next ?? Response.json({});
    },
  });
  return { client, seen, slept };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
const fail = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: FlyApiError) => e,
  );

describe('fly client requests', () => {
  it('sends auth, JSON and the lease nonce, under /v1', async () => {
    const { client, seen } = fakeApi();
    await client.updateMachine(
      'my-app',
      'm1',
      { config: { image: 'img' }, current_version: 'v1' },
      { nonce: 'abc' },
    );
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url.href).toBe('https://api.machines.dev/v1/apps/my-app/machines/m1');
    expect(req?.headers.get('authorization')).toBe('Bearer tok');
    expect(req?.headers.get('content-type')).toBe('application/json');
    expect(req?.headers.get('fly-machine-lease-nonce')).toBe('abc');
    expect(req?.body).toEqual({ config: { image: 'img' }, current_version: 'v1' });
  });

  it('builds list, delete, restart, stop, lease and volume requests as documented', async () => {
    const { client, seen } = fakeApi([json(200, [])]);
    await client.listMachines('a', {
      metadata: { fleetwarden_instance: 'i-1' },
      includeDeleted: true,
      region: 'ams',
      state: ['started', 'stopped'],
      summary: true,
    });
    await client.deleteMachine('a', 'm1', { force: true, nonce: 'n' });
    await client.restartMachine('a', 'm1', { signal: 'SIGTERM', timeout: '10s', forceStop: true });
    await client.stopMachine('a', 'm1');
    await client.stopMachine('a', 'm1', { timeout: '30s' });
    await client.acquireLease('a', 'm1', { ttlSeconds: 30, description: 'deploy' });
    await client.releaseLease('a', 'm1', 'n');
    await client.extendVolume('a', 'vol_1', 10);
    const lines = seen.map((s) => `${s.method} ${s.url.pathname}${s.url.search}`);
    expect(lines).toEqual([
      'GET /v1/apps/a/machines?include_deleted=true&region=ams&state=started%2Cstopped&summary=true&metadata.fleetwarden_instance=i-1',
      'DELETE /v1/apps/a/machines/m1?force=true',
      'POST /v1/apps/a/machines/m1/restart?signal=SIGTERM&timeout=10s&force_stop=true',
      'POST /v1/apps/a/machines/m1/stop',
      'POST /v1/apps/a/machines/m1/stop',
      'POST /v1/apps/a/machines/m1/lease',
      'DELETE /v1/apps/a/machines/m1/lease',
      'PUT /v1/apps/a/volumes/vol_1/extend',
    ]);
    expect(seen[3]?.body).toBeUndefined();
    expect(seen[4]?.body).toEqual({ timeout: '30s' });
    expect(seen[5]?.body).toEqual({ ttl: 30, description: 'deploy' });
    expect(seen[6]?.headers.get('fly-machine-lease-nonce')).toBe('n');
    expect(seen[7]?.body).toEqual({ size_gb: 10 });
  });

  it('drops soft-deleted volumes from listVolumes unless asked (fly-go GetVolumes)', async () => {
    const volumes = [
      { id: 'vol_a', state: 'created' },
      { id: 'vol_b', state: 'pending_destroy' },
    ];
    const { client } = fakeApi([json(200, volumes), json(200, volumes)]);
    expect((await client.listVolumes('a')).map((v) => v.id)).toEqual(['vol_a']);
    expect((await client.listVolumes('a', { includeDeleted: true })).map((v) => v.id)).toEqual([
      'vol_a',
      'vol_b',
    ]);
  });

  it('retries a GET after a network error and honours a short Retry-After on 429', async () => {
    const { client, seen, slept } = fakeApi([
      new TypeError('fetch failed'),
      json(429, { error: 'rate limit exceeded' }, { 'Retry-After': '1' }),
      json(200, { id: 'm1' }),
    ]);
    expect(await client.getMachine('a', 'm1')).toEqual({ id: 'm1' });
    expect(seen).toHaveLength(3);
    // random 0: the jittered delay is half the exponential one (100 → 50).
    expect(slept).toEqual([50, 1000]);
  });

  it('does not sleep through a Retry-After longer than its longest wait: the 429 says when', async () => {
    const { client, seen, slept } = fakeApi([
      json(429, { error: 'rate limit exceeded' }, { 'Retry-After': '5' }),
    ]);
    const error = await fail(client.getMachine('a', 'm1'));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 5000 });
    expect(seen).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('a network error on a mutation is not retried and surfaces as status 0 unavailable', async () => {
    const { client, seen } = fakeApi([new TypeError('fetch failed')]);
    const error = await fail(client.startMachine('a', 'm1'));
    expect(error).toMatchObject({ status: 0, code: 'unavailable' });
    expect(error?.message).toContain('network error calling POST /apps/a/machines/m1/start');
    expect(seen).toHaveLength(1);
  });

  it('does not wait out a Retry-After longer than a minute', async () => {
    const { client, seen } = fakeApi([json(429, { error: 'slow down' }, { 'Retry-After': '120' })]);
    expect(await fail(client.getMachine('a', 'm1'))).toMatchObject({
      status: 429,
      retryAfterMs: 120_000,
    });
    expect(seen).toHaveLength(1);
  });
});
