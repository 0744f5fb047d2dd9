import { Hono } from 'hono';
import { afterAll } from 'vitest';
import {
  createFlyClient,
  type FlyClient,
  type FlyClientOptions,
} from '../../src/adapters/fly/client.ts';
import {
  createFlySimulator,
  type FlySimulatorOptions,
} from '../../src/dev-servers/fly-simulator/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export const FLY_TOKEN = 'test-fly-token';
export const SIM_BASE = 'http://fly.sim/__dev/fly';

/**
 * A clock that moves only when told to. Used as both the simulator's and the client's
 * clock, with a `sleep` that advances it, so waits, transitions and rate limits run
 * instantly and deterministically.
 */
export function manualClock(start = Date.parse('2026-03-01T12:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    /** Advances the clock, then yields so other requests can run. */
    sleep: async (ms: number) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

export type FlyHarness = {
  db: TestDatabase;
  /** The clock the simulator and the clients share. */
  clock: ReturnType<typeof manualClock>;
  /** Dispatches into the simulator, mounted at `/__dev/fly` in a host app, in-process. */
  fetch: typeof fetch;
  /** A client on the simulator: rate limiter off; its sleeps advance the clock. */
  client: FlyClient;
  /** Delays the clients slept, in ms. */
  sleeps: number[];
  /** Another client on the same simulator (e.g. another token, rate limiter on). */
  newClient(over?: Partial<FlyClientOptions>): FlyClient;
  /** A raw request to the simulator, authorised unless `headers.Authorization` is given. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** A fresh app on the simulator. */
  makeApp(): Promise<string>;
};

let seq = 0;

/**
 * The Fly simulator on a fresh test database (dropped after the file), plus a client
 * whose `fetch` calls it in-process. Simulator and clients share a manual clock that only
 * sleeps move (wait polling, backoff, rate limiting), so no test depends on how fast the
 * machine running it is. timeScale 0.01: a 2 s boot is 20 ms of simulated time.
 */
export async function createFlyHarness(
  options: { sim?: Partial<Omit<FlySimulatorOptions, 'db'>>; db?: TestDatabase } = {},
): Promise<FlyHarness> {
  const db = options.db ?? (await createTestDatabase());
  if (!options.db) afterAll(() => db.drop());
  const clock = manualClock();
  const sim = createFlySimulator({
    db: db.db,
    timeScale: 0.01,
    token: FLY_TOKEN,
    now: () => new Date(clock.now()),
    sleep: clock.sleep,
    ...options.sim,
  });
  const host = new Hono().route('/__dev/fly', sim);
  const fetchFn: typeof fetch = async (input, init) => host.fetch(new Request(input, init));
  const sleeps: number[] = [];
  const newClient = (over: Partial<FlyClientOptions> = {}) =>
    createFlyClient({
      baseUrl: SIM_BASE,
      token: FLY_TOKEN,
      fetch: fetchFn,
      rateLimit: false,
      now: clock.now,
      sleep: async (ms) => {
        sleeps.push(ms);
        await clock.sleep(ms);
      },
      ...over,
    });
  const call: FlyHarness['call'] = (method, path, body, headers = {}) =>
    fetchFn(`${SIM_BASE}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${FLY_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const client = newClient();
  return {
    db,
    clock,
    fetch: fetchFn,
    client,
    sleeps,
    newClient,
    call,
    async makeApp() {
      const name = `app-${process.pid}-${Date.now().toString(36)}-${seq++}`;
      await client.createApp(name);
      return name;
    },
  };
}

/** A minimal machine config. */
export const agentConfig = (
  image = 'registry.fly.io/agent:v1.0.0',
  extra: Record<string, unknown> = {},
) => ({
  image,
  guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
  ...extra,
});

export type Exchange = {
  method: string;
  /** Below `/v1`, as the document's paths are. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
};

/** A fetch that records each request and response it passes to `inner`. */
export function recordExchanges(inner: typeof fetch, into: Exchange[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const text = typeof init?.body === 'string' ? init.body : '';
    const res = await inner(input, init);
    const answer = await res.clone().text();
    into.push({
      method: (init?.method ?? 'GET').toLowerCase(),
      path: url.pathname.replace(/^.*\/v1/, ''),
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(new Headers(init?.headers)),
      requestBody: text ? JSON.parse(text) : undefined,
      status: res.status,
      responseBody: answer ? JSON.parse(answer) : undefined,
    });
    return res;
  };
}

/**
 * Every client method once, plus the error answers features will meet (the conformance
 * scenario); `rec` also records the raw calls it makes.
 */
export async function exerciseEveryMethod(
  h: FlyHarness,
  client: FlyClient,
  app: string,
  rec: typeof fetch,
) {
  const ignore = (p: Promise<unknown>) => p.catch(() => undefined);
  await client.getApp(app);
  await ignore(client.createApp(app));
  const volume = await client.createVolume(app, { name: 'data', region: 'ams', compute: {} });
  const m = await client.createMachine(app, {
    config: agentConfig(undefined, {
      mounts: [{ volume: volume.id, path: '/data' }],
      metadata: { k: 'v' },
    }),
    region: 'ams',
  });
  await client.getMachine(app, m.id);
  await client.listMachines(app, {
    metadata: { k: 'v' },
    includeDeleted: true,
    region: 'ams',
    state: ['started'],
  });
  await client.waitMachine(app, m.id, {
    state: 'started',
    instanceId: m.instance_id,
    timeoutSeconds: 30,
  });
  await ignore(client.deleteMachine(app, m.id));
  const lease = await client.acquireLease(app, m.id, { ttlSeconds: 30, description: 'test' });
  await rec(`${SIM_BASE}/v1/apps/${app}/machines/${m.id}/lease`, {
    headers: { Authorization: `Bearer ${FLY_TOKEN}` },
  });
  await ignore(h.newClient({ token: 'wrong', fetch: rec }).getApp(app));
  const updated = await client.updateMachine(
    app,
    m.id,
    { config: { ...(m.config ?? agentConfig()), image: 'registry.fly.io/agent:v2' } },
    { nonce: lease.data.nonce },
  );
  await client.releaseLease(app, m.id, lease.data.nonce);
  await client.waitMachine(app, m.id, { state: 'settled', instanceId: updated.instance_id });
  await client.stopMachine(app, m.id, { signal: 'SIGTERM', timeout: '10s' });
  const old = m.instance_id;
  await ignore(
    client.waitMachine(app, m.id, { state: 'stopped', instanceId: old, timeoutSeconds: 1 }),
  );
  await client.waitMachine(app, m.id, { state: 'stopped', instanceId: updated.instance_id });
  await client.startMachine(app, m.id);
  await client.waitMachine(app, m.id, { state: 'started' });
  await client.suspendMachine(app, m.id);
  await client.waitMachine(app, m.id, { state: 'suspended' });
  await client.restartMachine(app, m.id, { signal: 'SIGTERM', timeout: '5s', forceStop: false });
  await client.listMachineEvents(app, m.id);
  await client.extendVolume(app, volume.id, 5);
  await client.createSnapshot(app, volume.id);
  h.clock.advance(1_000);
  const [snapshot] = await client.listSnapshots(app, volume.id);
  await client.createVolume(app, { name: 'data', region: 'ams', snapshot_id: snapshot?.id });
  const fork = await client.createVolume(app, { name: 'fork', source_volume_id: volume.id });
  await client.getVolume(app, fork.id);
  await client.listVolumes(app, { includeDeleted: true });
  await client.deleteVolume(app, fork.id);
  await ignore(client.deleteVolume(app, volume.id));
  await client.deleteMachine(app, m.id, { force: true });
  await ignore(client.getMachine(app, '00000000000000'));
  await ignore(client.waitMachine(app, m.id, { state: 'started', timeoutSeconds: 1 }));
  await h.call('POST', '/_faults', { out_of_capacity: ['syd'] });
  await ignore(client.createMachine(app, { config: agentConfig(), region: 'syd' }));
  await h.call('DELETE', '/_faults');
}
