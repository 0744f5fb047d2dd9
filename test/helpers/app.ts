import { type ServerType, serve } from '@hono/node-server';
import { afterAll } from 'vitest';
import { connect, type Db } from '../../db/client.ts';
import { loadStaticAssets, peerAddress } from '../../host.ts';
import {
  createControllerClient,
  flyDevControllerUrl,
} from '../../src/adapters/controller/client.ts';
import { setupMailer } from '../../src/adapters/email/setup.ts';
import { setupFly } from '../../src/adapters/fly/setup.ts';
import { setupPusher } from '../../src/adapters/push/setup.ts';
import { setupQueue } from '../../src/adapters/queue/setup.ts';
import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { type Deps, IN_PROCESS_ENV } from '../../src/deps.ts';
import { createDevServers } from '../../src/dev-servers/index.ts';
import {
  DEPROVISION_LISTENERS,
  MACHINE_LOST_LISTENERS,
  OPERATION_LISTENERS,
  SWEEPERS,
} from '../../src/features.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import type { Sweeper } from '../../src/lib/work/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { freePort } from './process.ts';
import { startWsProxy } from './ws-proxy.ts';

/**
 * A clock tests can move. Starts at the real time so database `now()` agrees roughly. With
 * `follow`, it also runs on with real time (browser tests, where work happens on its own).
 */
export function testClock(
  start = new Date(),
  options: { follow?: boolean } = {},
): Clock & { set(at: Date): void; advance(ms: number): void } {
  let offset = start.getTime() - Date.now();
  let frozen = start.getTime();
  const base = () => (options.follow ? Date.now() + offset : frozen);
  return {
    now: () => new Date(base()),
    set: (at) => {
      offset = at.getTime() - Date.now();
      frozen = at.getTime();
    },
    advance: (ms) => {
      offset += ms;
      frozen += ms;
    },
  };
}

export type TestApp = {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  db: TestDatabase;
  /** Every log line written so far (JSON strings). */
  logs: string[];
  clock: ReturnType<typeof testClock>;
  /** Absolute URL for a path on the configured public origin. */
  url(path: string): string;
  origin: string;
  /** Delivers every doorbell due now through the QStash emulator (and their retries due now). */
  deliverDue(): Promise<number>;
  /** The Fly simulator's time scale: a simulated delay of `ms` takes `ms × flyTimeScale`. */
  flyTimeScale: number;
};

const vendor = loadStaticAssets();

/** The deployment's `CONTROLLER_SECRET` in tests (machines' tokens derive from it). */
export const TEST_CONTROLLER_SECRET = 'test-controller-secret-0123456789abcdef';

/** The client address `app.request` calls appear to come from (RFC 5737 documentation range). */
export const TEST_CLIENT_IP = '203.0.113.7';

export type TestAppOptions = {
  env?: Record<string, string>;
  clock?: ReturnType<typeof testClock>;
  /** `neon`: talk to the same database through @neondatabase/serverless and a local WebSocket proxy. */
  driver?: 'postgres' | 'neon';
  /**
   * Serve over real HTTP on 127.0.0.1 (the public URL then points there). Needed wherever
   * doorbells are rung: the official QStash SDK reaches the emulator over HTTP.
   */
  serve?: boolean;
  sweepers?: Sweeper[];
  /** Start the QStash emulator's delivery loop (browser tests); otherwise tests call `deliverDue()`. */
  autoDeliver?: boolean;
  /** Fly simulator time scale (default 0.01: a 2 s machine start takes 20 ms). */
  flyTimeScale?: number;
  /** QStash emulator backoff multiplier (default 0.001: QStash's 12 s first retry takes 12 ms). */
  queueTimeScale?: number;
  /** The emulator's deliveries in flight at once (default: the emulator's own). */
  queueConcurrency?: number;
  /** Database connections of the app's pool (default 10). */
  maxConnections?: number;
  /** Each controller call's timeout in ms (default: the configuration's 10 s). */
  controllerTimeoutMs?: number;
  /** Wraps the instance controller client (a fake around the real one: counting, hanging). */
  wrapController?: (controller: Deps['controller']) => Deps['controller'];
  /** Wraps the Fly client (a fake around the real one: slow calls, crashes between steps). */
  wrapFly?: (fly: Deps['fly']) => Deps['fly'];
  /** Wraps the doorbells (a fake around the real ones: lost publishes). */
  wrapDoorbells?: (doorbells: Deps['doorbells']) => Deps['doorbells'];
  /** Origins the emulator may deliver to besides the app (a recording destination). */
  queueDestinations?: string[];
  /** A mailer instead of the outbox's (the real Resend adapter against a local fake). */
  mailer?: (outbox: Deps['mailer']) => Deps['mailer'];
  /** A pusher instead of the outbox's (the real Expo adapter against a local fake). */
  pusher?: (outbox: Deps['pusher']) => Deps['pusher'];
};

/**
 * The real app on a fresh PostgreSQL database, with a controllable clock and captured
 * logs. Email and push requests are limited to 1,000 a second, not the providers' 2 and 6
 * (set `env` to test the limiter). Passwords hash with 1,000 PBKDF2 iterations here (the production default is
 * 600,000) so sign-ins stay fast; the code path is the same. The QStash emulator does not
 * deliver on its own: tests call `deliverDue()`. Closes itself after the file's tests.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase(
    options.maxConnections ? { maxConnections: options.maxConnections } : {},
  );
  let handle: Db = db.db;
  if (options.driver === 'neon') {
    const proxy = await startWsProxy();
    const neon = await connect(
      { kind: 'neon', url: db.url },
      { neonWsProxy: proxy.url, maxConnections: 10 },
    );
    handle = neon.db;
    afterAll(async () => {
      await neon.close();
      await proxy.close();
    });
  }
  const port = options.serve ? await freePort() : null;
  const publicUrl = port ? `http://127.0.0.1:${port}` : 'http://fleet.test';
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'embedded',
    PUBLIC_URL: publicUrl,
    // The outbox keeps the providers' request rates (production defaults 2 and 6 a second),
    // so at those rates every dispatch waits for turns. Tests of the limiter itself set
    // them back (test/integration/notices-rate-limit.test.ts).
    EMAIL_REQUESTS_PER_SECOND: '1000',
    PUSH_REQUESTS_PER_SECOND: '1000',
    ...options.env,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const config = {
    ...parsed.config,
    database: { kind: options.driver ?? 'postgres', url: db.url },
  } as const;
  const logs: string[] = [];
  const clock = options.clock ?? testClock();
  const log = jsonLogger({ level: 'debug', write: (line) => logs.push(line), now: clock.now });
  const flyTimeScale = options.flyTimeScale ?? 0.01;
  const standIns = createDevServers({
    config,
    db: handle,
    log,
    // The simulator keeps real time (scaled) so its machines boot while a test waits.
    fly: { timeScale: flyTimeScale },
    qstash: {
      now: clock.now,
      timeScale: options.queueTimeScale ?? 0.001,
      ...(options.queueConcurrency ? { deliveryConcurrency: options.queueConcurrency } : {}),
      extraDestinations: options.queueDestinations ?? [],
    },
  });
  const { qstash } = standIns.dev;
  const fly = setupFly({
    config,
    rateLimit: false,
    ...(standIns.flyGatewayUrlFor ? { gatewayUrlFor: standIns.flyGatewayUrlFor } : {}),
  });
  const queue = setupQueue({ config, now: clock.now });
  const deps: Deps = {
    config,
    db: handle,
    clock,
    log,
    doorbells: options.wrapDoorbells ? options.wrapDoorbells(queue.doorbells) : queue.doorbells,
    doorbellConsole: queue.doorbellConsole,
    signatures: queue.signatures,
    mailer: (options.mailer ?? ((m) => m))(setupMailer(config, standIns.outbox?.mailer ?? null)),
    pusher: (options.pusher ?? ((p) => p))(setupPusher(config, standIns.outbox?.pusher ?? null)),
    sweepers: options.sweepers ?? SWEEPERS,
    operationListeners: OPERATION_LISTENERS,
    machineLostListeners: MACHINE_LOST_LISTENERS,
    deprovisionListeners: DEPROVISION_LISTENERS,
    fly: options.wrapFly ? options.wrapFly(fly.client) : fly.client,
    gateway: fly.gateway,
    controller: (options.wrapController ?? ((c) => c))(
      createControllerClient({
        baseUrlFor: standIns.controllerBaseUrlFor ?? flyDevControllerUrl,
        secret: TEST_CONTROLLER_SECRET,
        fetch: fly.fetch,
        timeoutMs: options.controllerTimeoutMs ?? config.controller.timeoutMs,
      }),
    ),
    dev: standIns.dev,
    staticAssets: await vendor,
    // The real socket's address when served; `app.request` has no socket, so a test
    // request comes from a documentation address (RFC 5737), i.e. another machine.
    peerAddress: (env) => peerAddress(env) ?? TEST_CLIENT_IP,
    security: {
      pbkdf2Iterations: 1_000,
      sessionSecret: 'test-session-secret-0123456789abcdef',
      controllerSecret: TEST_CONTROLLER_SECRET,
    },
  };
  const app = createApp(deps);
  // As in boot: the app calling itself is trusted as this machine by the /__dev guard.
  const inProcess = async (request: Request) => app.fetch(request, IN_PROCESS_ENV);
  standIns.attachApp(inProcess);
  fly.attachApp(inProcess);
  let server: ServerType | null = null;
  if (port) server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  if (options.autoDeliver) qstash?.engine.start();
  afterAll(async () => {
    await qstash?.engine.stop();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    await db.drop();
  });
  const origin = new URL(config.publicUrl).origin;
  return {
    app,
    deps,
    db,
    logs,
    clock,
    origin,
    url: (path) => `${origin}${path}`,
    deliverDue: () => qstash?.engine.drain() ?? Promise.resolve(0),
    flyTimeScale,
  };
}
