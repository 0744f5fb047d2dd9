import { afterAll } from 'vitest';
import { connect, type Db } from '../../db/client.ts';
import { loadVendorAssets } from '../../host.ts';
import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startWsProxy } from './ws-proxy.ts';

/** A clock tests can move. Starts at the real time so database `now()` agrees roughly. */
export function testClock(
  start = new Date(),
): Clock & { set(at: Date): void; advance(ms: number): void } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (at) => {
      now = at.getTime();
    },
    advance: (ms) => {
      now += ms;
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
};

const vendor = loadVendorAssets();

/**
 * The real app on a fresh PostgreSQL database, with a controllable clock and captured
 * logs. Passwords hash with 1,000 PBKDF2 iterations here (the production default is
 * 600,000) so sign-ins stay fast; the code path is the same.
 * Closes itself after the file's tests.
 */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    clock?: ReturnType<typeof testClock>;
    /** `neon`: talk to the same database through @neondatabase/serverless and a local WebSocket proxy. */
    driver?: 'postgres' | 'neon';
  } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
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
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'embedded',
    PUBLIC_URL: 'http://fleet.test',
    ...options.env,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const logs: string[] = [];
  const clock = options.clock ?? testClock();
  const deps: Deps = {
    config: { ...parsed.config, database: { kind: options.driver ?? 'postgres', url: db.url } },
    db: handle,
    clock,
    log: jsonLogger({ level: 'debug', write: (line) => logs.push(line), now: clock.now }),
    vendorAssets: await vendor,
    peerAddress: () => '203.0.113.7',
    security: { pbkdf2Iterations: 1_000, sessionSecret: 'test-session-secret-0123456789abcdef' },
  };
  const app = createApp(deps);
  afterAll(() => db.drop());
  const origin = new URL(deps.config.publicUrl).origin;
  return { app, deps, db, logs, clock, origin, url: (path) => `${origin}${path}` };
}
