import { describe, expect, it } from 'vitest';
import { createHttpGateway, flyDevHealthUrl } from '../../src/adapters/fly/gateway.ts';

const target = { appName: 'agents', machineId: '3d8d413b29d089' };

describe('HTTP gateway probes', () => {
  it('targets https://<app>.fly.dev/healthz and forces the machine with fly-force-instance-id', async () => {
    const seen: { url: string; header: string | null }[] = [];
    const gateway = createHttpGateway({
      urlFor: flyDevHealthUrl,
      fetch: async (input, init) => {
        seen.push({
          url: String(input),
          header: new Headers(init?.headers).get('fly-force-instance-id'),
        });
        return Response.json({ status: 'ok', instance_id: 'v1' });
      },
    });
    expect(await gateway.probe({ ...target, instanceId: 'v1' })).toEqual({
      healthy: true,
      status: 200,
      detail: 'HTTP 200',
      instanceId: 'v1',
    });
    expect(seen).toEqual([{ url: 'https://agents.fly.dev/healthz', header: '3d8d413b29d089' }]);
  });

  it('is unhealthy on non-2xx (with the reason), a network error, or another version answering', async () => {
    const answers = [
      Response.json({ status: 'unavailable', reason: 'machine is stopped' }, { status: 503 }),
      new Response('Bad gateway', { status: 502 }),
      Response.json({ status: 'ok', instance_id: 'v1' }),
    ];
    const gateway = createHttpGateway({
      urlFor: flyDevHealthUrl,
      fetch: async () => {
        const next = answers.shift();
        if (!next) throw new TypeError('fetch failed');
        return next;
      },
    });
    expect(await gateway.probe(target)).toEqual({
      healthy: false,
      status: 503,
      detail: 'HTTP 503: machine is stopped',
    });
    expect(await gateway.probe(target)).toEqual({
      healthy: false,
      status: 502,
      detail: 'HTTP 502: Bad gateway',
    });
    expect(await gateway.probe({ ...target, instanceId: 'v2' })).toMatchObject({
      healthy: false,
      detail: 'answered as version v1, expected v2',
    });
    expect(await gateway.probe(target)).toEqual({
      healthy: false,
      status: 0,
      detail: 'unreachable: TypeError: fetch failed',
    });
  });

  it('gives up after timeoutMs and says so', async () => {
    const gateway = createHttpGateway({
      urlFor: flyDevHealthUrl,
      timeoutMs: 5,
      // Answers only when aborted, like a machine that never responds.
      fetch: (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    });
    expect(await gateway.probe(target)).toEqual({
      healthy: false,
      status: 0,
      detail: 'timed out after 5 ms',
    });
  });
});
