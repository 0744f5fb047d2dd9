import { describe, expect, it } from 'vitest';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

describe('fly simulator faults: errors, latency, capacity, rate limits', async () => {
  let roll = 0;
  const h = await createFlyHarness({ sim: { random: () => roll } });
  const { client } = h;
  const app = await h.makeApp();
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: FlyApiError) => e,
    );
  const faults = async (body: unknown) => {
    const res = await h.call('POST', '/_faults', body);
    expect(res.status).toBe(200);
    return res.json();
  };
  const clear = () => h.call('DELETE', '/_faults');

  it('validates the body with a clear 400 and changes nothing', async () => {
    for (const body of [
      { errors: [{ endpoint: 'get_machine', status: 200 }] },
      { errors: [{ endpoint: 'reboot', status: 500 }] },
      { latency: [{ endpoint: '*', ms: -1 }] },
      { surprise: true },
      { stop_machines: [{ machine_id: 'ffffffffffffff' }] },
    ]) {
      const res = await h.call('POST', '/_faults', body);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/^invalid_argument: invalid faults: /);
    }
    const shown = await (await h.call('GET', '/_faults')).json();
    expect(shown).toMatchObject({
      errors: [],
      latency: [],
      out_of_capacity: [],
      rate_limit: false,
    });
  });

  it('injects an error status per endpoint, at a rate, a number of times', async () => {
    const m = await client.createMachine(app, { config: agentConfig(), skip_launch: true });
    await faults({ errors: [{ endpoint: 'start_machine', status: 500, times: 1 }] });
    const error = await fail(client.startMachine(app, m.id));
    expect(error).toMatchObject({
      status: 500,
      code: 'internal',
      message: 'internal: injected fault',
    });
    expect(await client.startMachine(app, m.id)).toBeTruthy();

    await faults({
      errors: [{ endpoint: 'list_events', status: 409, rate: 0.5, error: 'aborted: busy' }],
    });
    roll = 0.7;
    expect(await client.listMachineEvents(app, m.id)).not.toHaveLength(0);
    roll = 0.2;
    expect(await fail(client.listMachineEvents(app, m.id))).toMatchObject({
      status: 409,
      message: 'aborted: busy',
    });
    roll = 0;
    await clear();
  });

  it('adds latency (× timeScale) to the chosen endpoint only', async () => {
    const m = await client.createMachine(app, { config: agentConfig() });
    await faults({ latency: [{ endpoint: 'get_machine', ms: 500 }] });
    const before = h.clock.now();
    await client.getMachine(app, m.id);
    expect(h.clock.now() - before).toBe(5);
    const mid = h.clock.now();
    await client.listMachineEvents(app, m.id);
    expect(h.clock.now()).toBe(mid);
    await clear();
  });

  it('a region out of capacity refuses machine create, start, update and volume create with 412', async () => {
    const elsewhere = await client.createMachine(app, {
      config: agentConfig(),
      region: 'syd',
      skip_launch: true,
    });
    await faults({ out_of_capacity: ['syd'] });
    const res = await h.call('POST', `/v1/apps/${app}/machines`, {
      config: agentConfig(),
      region: 'syd',
    });
    expect(res.status).toBe(412);
    expect(await res.json()).toEqual({
      error: "insufficient resources to create new machine in region 'syd'",
      status: 'insufficient_capacity',
    });
    for (const call of [
      () => client.startMachine(app, elsewhere.id),
      () =>
        client.updateMachine(app, elsewhere.id, {
          config: agentConfig('registry.fly.io/agent:v2'),
        }),
      () => client.createVolume(app, { name: 'data', region: 'syd' }),
    ])
      expect(await fail(call())).toMatchObject({ status: 412, code: 'insufficient_capacity' });
    expect((await client.createMachine(app, { config: agentConfig(), region: 'ams' })).region).toBe(
      'ams',
    );
    await clear();
    await client.startMachine(app, elsewhere.id);
  });

  it('rate limiting: 429 with Retry-After past Fly’s published burst; the client retries after it', async () => {
    const m = await client.createMachine(app, { config: agentConfig() });
    await faults({ rate_limit: true });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await h.call('GET', `/v1/apps/${app}/machines/${m.id}`)).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    const limited = await h.call('GET', `/v1/apps/${app}/machines/${m.id}`);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ error: 'rate limit exceeded' });

    h.sleeps.length = 0;
    expect((await client.getMachine(app, m.id)).id).toBe(m.id);
    expect(h.sleeps).toEqual([1000]);
    // Mutations: start is 1/s with a burst of 3 per machine; a 429 is retried too.
    for (let i = 0; i < 3; i++) await h.call('POST', `/v1/apps/${app}/machines/${m.id}/stop`);
    h.sleeps.length = 0;
    await client.stopMachine(app, m.id);
    expect(h.sleeps).toEqual([1000]);
    await clear();
  });

  it('a client with its limiter on waits instead of meeting 429s', async () => {
    const m = await client.createMachine(app, { config: agentConfig() });
    await faults({ rate_limit: true });
    let limited = 0;
    const polite = h.newClient({
      rateLimit: true,
      fetch: async (input, init) => {
        const res = await h.fetch(input, init);
        if (res.status === 429) limited++;
        return res;
      },
    });
    h.sleeps.length = 0;
    for (let i = 0; i < 25; i++) await polite.getMachine(app, m.id);
    expect(limited).toBe(0);
    // 10 from the burst, then one every 200 ms (5/s).
    expect(h.sleeps).toHaveLength(15);
    expect(h.sleeps.every((ms) => ms > 0 && ms <= 200)).toBe(true);
    await clear();
  });
});
