import { describe, expect, it } from 'vitest';
import { REQUEST_ID_KEY } from '../../src/adapters/fly/create-machine.ts';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

describe('fly client: retries and create reconciliation against the simulator', async () => {
  const h = await createFlyHarness();
  const calls: string[] = [];
  /** Fails the next `lose` POSTs to create a machine after the simulator has answered. */
  let lose = 0;
  const client = h.newClient({
    random: () => 0.5,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      calls.push(
        `${init?.method ?? 'GET'} ${url.pathname.replace(/^\/__dev\/fly\/v1\/apps\/[^/]+/, '')}`,
      );
      const res = await h.fetch(input, init);
      if (init?.method === 'POST' && url.pathname.endsWith('/machines') && lose > 0) {
        lose--;
        throw new TypeError('fetch failed: socket hang up');
      }
      return res;
    },
  });
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: FlyApiError) => e,
    );
  const faults = (body: unknown) => h.call('POST', '/_faults', body);
  const reset = async () => {
    calls.length = 0;
    h.sleeps.length = 0;
    await h.call('DELETE', '/_faults');
  };

  it('an ambiguous 500 after the create happened: reconciled by the metadata tag, one machine', async () => {
    const app = await h.makeApp();
    await reset();
    await faults({
      errors: [{ endpoint: 'create_machine', status: 500, phase: 'after', times: 1 }],
    });
    const m = await client.createMachine(app, { config: agentConfig() });
    expect(calls).toEqual(['POST /machines', 'GET /machines']);
    const all = await h.client.listMachines(app);
    expect(all.map((x) => x.id)).toEqual([m.id]);
    expect(m.config?.metadata?.[REQUEST_ID_KEY]).toMatch(/^[0-9a-z]{20}$/);
  });

  it('a lost response (network error) is reconciled the same way', async () => {
    const app = await h.makeApp();
    await reset();
    lose = 1;
    const m = await client.createMachine(app, { config: agentConfig() });
    expect(calls).toEqual(['POST /machines', 'GET /machines']);
    expect((await h.client.listMachines(app)).map((x) => x.id)).toEqual([m.id]);
  });

  it('a 503 before anything happened: nothing found, so the create is sent once more with the same id', async () => {
    const app = await h.makeApp();
    await reset();
    await faults({ errors: [{ endpoint: 'create_machine', status: 503, times: 1 }] });
    const m = await client.createMachine(app, {
      config: agentConfig(undefined, { metadata: { [REQUEST_ID_KEY]: 'caller-chosen-id' } }),
    });
    expect(calls).toEqual(['POST /machines', 'GET /machines', 'POST /machines']);
    expect(m.config?.metadata?.[REQUEST_ID_KEY]).toBe('caller-chosen-id');
    expect(await h.client.listMachines(app)).toHaveLength(1);
  });

  it('gives up after the second ambiguous failure, and never retries a definite one', async () => {
    const app = await h.makeApp();
    await reset();
    await faults({ errors: [{ endpoint: 'create_machine', status: 502, times: 2 }] });
    expect(await fail(client.createMachine(app, { config: agentConfig() }))).toMatchObject({
      status: 502,
    });
    expect(calls).toEqual(['POST /machines', 'GET /machines', 'POST /machines', 'GET /machines']);
    expect(await h.client.listMachines(app)).toEqual([]);

    await reset();
    await faults({ out_of_capacity: ['ams'] });
    expect(
      await fail(client.createMachine(app, { config: agentConfig(), region: 'ams' })),
    ).toMatchObject({
      status: 412,
    });
    expect(calls).toEqual(['POST /machines']);
  });

  it('retries GET on 5xx and network errors with jittered exponential backoff', async () => {
    const app = await h.makeApp();
    const m = await h.client.createMachine(app, { config: agentConfig() });
    await reset();
    await faults({ errors: [{ endpoint: 'get_machine', status: 503, times: 2 }] });
    expect((await client.getMachine(app, m.id)).id).toBe(m.id);
    // random 0.5: half the exponential delay fixed plus a quarter: 100 → 75, 200 → 150.
    expect(h.sleeps).toEqual([75, 150]);
    expect(calls).toHaveLength(3);

    await reset();
    await faults({ errors: [{ endpoint: 'get_machine', status: 500 }] });
    expect(await fail(client.getMachine(app, m.id))).toMatchObject({ status: 500 });
    expect(calls).toHaveLength(4);
    expect(h.sleeps).toEqual([75, 150, 300]);
  });

  it('does not retry a mutation that failed with 5xx', async () => {
    const app = await h.makeApp();
    const m = await h.client.createMachine(app, { config: agentConfig() });
    await h.client.waitMachine(app, m.id, { state: 'started' });
    await reset();
    await faults({ errors: [{ endpoint: 'stop_machine', status: 503, times: 1 }] });
    expect(await fail(client.stopMachine(app, m.id))).toMatchObject({
      status: 503,
      code: 'unavailable',
    });
    expect(calls).toEqual([`POST /machines/${m.id}/stop`]);
    expect(h.sleeps).toEqual([]);
  });
});
