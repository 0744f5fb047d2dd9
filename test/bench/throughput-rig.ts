import { type ServerType, serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { connect, type Database } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { loadVendorAssets } from '../../host.ts';
import { setupFly } from '../../src/adapters/fly/setup.ts';
import { setupQueue } from '../../src/adapters/queue/setup.ts';
import { createApp } from '../../src/app.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { parseConfig } from '../../src/config.ts';
import { type Deps, SYSTEM_ACTOR } from '../../src/deps.ts';
import { OPERATION_LISTENERS, SWEEPERS } from '../../src/features.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';
import { freePort } from '../helpers/process.ts';
import { ignoreClient, installSqlCounter, type SqlCounts, sqlCounts } from './sql-counter.ts';

const IMAGE = 'registry.fly.io/agent:1';

/**
 * The app as embedded mode runs it (QStash emulator delivering on its own, Fly simulator),
 * on a PostgreSQL server, with one difference that makes its own work countable: the local
 * stand-ins keep their state in a second database, so every statement and transaction on
 * the app's database is the app's. Driver-level counts come from sql-counter.ts.
 */
export async function throughputRig(adminUrl: string, env: Record<string, string> = {}) {
  installSqlCounter();
  const stamp = `${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const appDb = `fw_tput_app_${stamp}`;
  const standInDb = `fw_tput_sim_${stamp}`;
  await adminQuery(adminUrl, [`create database ${appDb}`, `create database ${standInDb}`]);
  const port = await freePort();
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'embedded',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const config = {
    ...parsed.config,
    database: { kind: 'postgres', url: withDatabase(adminUrl, appDb) },
  } as const;
  const app: Database = await connect(config.database, { maxConnections: 10 });
  const standIns: Database = await connect(
    { kind: 'postgres', url: withDatabase(adminUrl, standInDb) },
    { maxConnections: 10 },
  );
  await migrate(app);
  await migrate(standIns);
  const log = jsonLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) });
  const fly = setupFly({
    config,
    db: standIns.db,
    timeScale: config.flySimulatorTimeScale,
    rateLimit: false,
  });
  const queue = setupQueue({ config, db: standIns.db, log });
  const deps: Deps = {
    config,
    db: app.db,
    clock: systemClock,
    log,
    doorbells: queue.doorbells,
    doorbellConsole: queue.doorbellConsole,
    signatures: queue.signatures,
    sweepers: SWEEPERS,
    operationListeners: OPERATION_LISTENERS,
    fly: fly.client,
    gateway: fly.gateway,
    dev: { qstash: queue.emulator, fly: fly.simulator },
    vendorAssets: await loadVendorAssets(),
    peerAddress: () => null,
    security: { pbkdf2Iterations: 1_000, sessionSecret: 'bench-session-secret-0123456789abcdef' },
  };
  const http = createApp(deps);
  queue.attachApp(async (request) => http.fetch(request));
  fly.attachApp(async (request) => http.fetch(request));
  const server: ServerType = serve({ fetch: http.fetch, port, hostname: '127.0.0.1' });
  queue.emulator?.engine.start();
  const { key } = await createApiKey({
    ctx: { ...deps, actor: SYSTEM_ACTOR, requestId: null },
    input: { kind: 'admin', label: 'bench' },
  });
  // Reads the bench makes to watch progress: not counted.
  const watch = ignoreClient(new pg.Client({ connectionString: config.database.url }));
  await watch.connect();
  const standInWatch = new pg.Client({ connectionString: withDatabase(adminUrl, standInDb) });
  await standInWatch.connect();

  async function callApi(method: string, path: string, body?: unknown) {
    const res = await fetch(`${config.publicUrl}/api/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  return {
    deps,
    appDb,
    callApi,
    watch,
    /** `n` running instances, each with a started machine in the simulator (bulk SQL). */
    async seedFleet(n: number): Promise<string[]> {
      await fly.client.createApp(config.fly.appName);
      await app.db.execute(
        sql`insert into image_catalog (image_tag, version_label, is_latest) values (${IMAGE}, '1', true)`,
      );
      await standIns.db.execute(sql`
        insert into sim_fly_machines (id, app_name, name, region, zone, state, instance_id, private_ip, config, steps, revision, created_at, updated_at)
        select lpad(to_hex(g), 14, '0'), ${config.fly.appName}, 'bench-m-' || g, 'ams', 'a1b2', 'started',
          '01BENCH' || lpad(g::text, 19, '0'), 'fdaa::' || to_hex(g),
          jsonb_build_object('image', ${IMAGE}::text, 'metadata', '{}'::jsonb), '[]'::jsonb, 0, now(), now()
        from generate_series(1, ${n}) g`);
      await standIns.db.execute(sql`
        insert into sim_fly_machine_versions (instance_id, machine_id, config, status, created_at)
        select instance_id, id, config, 'current', created_at from sim_fly_machines where app_name = ${config.fly.appName}`);
      const rows = await watch.query<{ id: string }>(
        `with u as (insert into users (email) select 'tput' || g || '@example.com' from generate_series(1, $1::int) g returning id, email)
         insert into instances (user_id, name, app_name, machine_id, machine_version, region, image_tag, status)
         select u.id, 'tput-' || substr(u.email, 5, position('@' in u.email) - 5), $2,
           lpad(to_hex(substr(u.email, 5, position('@' in u.email) - 5)::int), 14, '0'),
           '01BENCH' || lpad(substr(u.email, 5, position('@' in u.email) - 5), 19, '0'), 'ams', $3, 'running'
         from u returning id`,
        [n, config.fly.appName, IMAGE],
      );
      return rows.rows.map((r) => r.id);
    },
    counts(): SqlCounts {
      return sqlCounts(appDb);
    },
    /** Messages published to the QStash emulator so far. */
    async messages(): Promise<number> {
      const r = await standInWatch.query<{ n: string }>(
        'select count(*) as n from sim_qstash_messages',
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    async close() {
      await queue.emulator?.engine.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await watch.end();
      await standInWatch.end();
      await app.close();
      await standIns.close();
      await adminQuery(adminUrl, [
        `drop database if exists ${appDb} with (force)`,
        `drop database if exists ${standInDb} with (force)`,
      ]).catch(() => {});
    },
  };
}

export type ThroughputRig = Awaited<ReturnType<typeof throughputRig>>;
