import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { type ServerType, serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { connect, type Database } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { loadStaticAssets } from '../../host.ts';
import { createControllerClient } from '../../src/adapters/controller/client.ts';
import { CONTROLLER_TOKEN_ENV, controllerToken } from '../../src/adapters/controller/token.ts';
import { setupMailer } from '../../src/adapters/email/setup.ts';
import { createHttpGateway } from '../../src/adapters/fly/gateway.ts';
import { setupFly } from '../../src/adapters/fly/setup.ts';
import { setupPusher } from '../../src/adapters/push/setup.ts';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { setupQueue } from '../../src/adapters/queue/setup.ts';
import { createApp } from '../../src/app.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { parseConfig } from '../../src/config.ts';
import { type Deps, SYSTEM_ACTOR } from '../../src/deps.ts';
import {
  simulatorControllerUrlFor,
  simulatorGatewayUrlFor,
} from '../../src/dev-servers/fly-simulator/index.ts';
import {
  DEPROVISION_LISTENERS,
  MACHINE_LOST_LISTENERS,
  OPERATION_LISTENERS,
  SWEEPERS,
} from '../../src/features.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';
import { freePort } from '../helpers/process.ts';
import { ignoreClient, installSqlCounter, type SqlCounts, sqlCounts } from './sql-counter.ts';

const IMAGE = 'registry.fly.io/agent:1';

/** Starts the stand-ins process (stand-ins-server.ts) and resolves with its origin. */
async function startStandIns(databaseUrl: string, appOrigin: string, timeScale: string) {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_STAND_INS_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      'test/bench/stand-ins-server.ts',
    ],
    {
      env: {
        ...process.env,
        STAND_INS_DATABASE_URL: databaseUrl,
        APP_ORIGIN: appOrigin,
        FLY_TIME_SCALE: timeScale,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the stand-ins exited (${code})`)));
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    /** CPU time the stand-ins process has used so far (ms), from /proc; null elsewhere. */
    async cpuMs(): Promise<number | null> {
      try {
        const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
        // Fields after the command name: utime is the 14th, stime the 15th (clock ticks).
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      } catch {
        return null;
      }
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The app as production runs it — its own process talks over HTTP to QStash and the Fly
 * Machines API — with the local stand-ins in a second process (and their state in a
 * second database) playing those services. So everything this process does, and every
 * statement on the app's database, is the app's own work; driver-level counts come from
 * sql-counter.ts.
 */
export async function throughputRig(
  adminUrl: string,
  options: { flyTimeScale: string; env?: Record<string, string> },
) {
  installSqlCounter();
  const stamp = `${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const appDb = `fw_tput_app_${stamp}`;
  const standInDb = `fw_tput_sim_${stamp}`;
  await adminQuery(adminUrl, [`create database ${appDb}`, `create database ${standInDb}`]);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const standIns = await startStandIns(
    withDatabase(adminUrl, standInDb),
    publicUrl,
    options.flyTimeScale,
  );
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'production',
    PUBLIC_URL: publicUrl,
    DATABASE_URL: withDatabase(adminUrl, appDb),
    SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
    CONTROLLER_SECRET: 'bench-controller-secret-0123456789abcdef',
    QSTASH_URL: `${standIns.origin}/__dev/qstash`,
    QSTASH_TOKEN: LOCAL_QSTASH.token,
    QSTASH_CURRENT_SIGNING_KEY: LOCAL_QSTASH.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: LOCAL_QSTASH.nextSigningKey,
    FLY_API_URL: `${standIns.origin}/__dev/fly`,
    FLY_API_TOKEN: 'fleetwarden-local-simulator',
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const config = parsed.config;
  const app: Database = await connect(config.database, { maxConnections: 10 });
  await migrate(app);
  const log = jsonLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) });
  const fly = setupFly({ config, rateLimit: false });
  const queue = setupQueue({ config });
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
    machineLostListeners: MACHINE_LOST_LISTENERS,
    deprovisionListeners: DEPROVISION_LISTENERS,
    fly: fly.client,
    // The simulator's edge, not `<app>.fly.dev`.
    gateway: createHttpGateway({ urlFor: simulatorGatewayUrlFor(config.fly.apiUrl) }),
    mailer: setupMailer(config, null),
    pusher: setupPusher(config, null),
    controller: createControllerClient({
      baseUrlFor: simulatorControllerUrlFor(config.fly.apiUrl),
      secret: config.controller.secret ?? '',
    }),
    dev: { qstash: null, fly: null, outbox: null },
    staticAssets: await loadStaticAssets(),
    peerAddress: () => null,
    security: {
      pbkdf2Iterations: 1_000,
      sessionSecret: 'bench-session-secret-0123456789abcdef',
      controllerSecret: config.controller.secret ?? '',
    },
  };
  const http = createApp(deps);
  const server: ServerType = serve({ fetch: http.fetch, port, hostname: '127.0.0.1' });
  const { key } = await createApiKey({
    ctx: { ...deps, actor: SYSTEM_ACTOR, requestId: null },
    input: { kind: 'admin', label: 'bench' },
  });
  // Reads the bench makes to watch progress: not counted.
  const watch = ignoreClient(new pg.Client({ connectionString: withDatabase(adminUrl, appDb) }));
  await watch.connect();
  const standInWatch = new pg.Client({ connectionString: withDatabase(adminUrl, standInDb) });
  await standInWatch.connect();
  const standInDbHandle = await connect(
    { kind: 'postgres', url: withDatabase(adminUrl, standInDb) },
    { maxConnections: 2 },
  );

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
      await standInDbHandle.db.execute(sql`
        insert into sim_fly_machines (id, app_name, name, region, zone, state, instance_id, private_ip, config, steps, revision, created_at, updated_at)
        select lpad(to_hex(g), 14, '0'), ${config.fly.appName}, 'bench-m-' || g, 'ams', 'a1b2', 'started',
          '01BENCH' || lpad(g::text, 19, '0'), 'fdaa::' || to_hex(g),
          jsonb_build_object('image', ${IMAGE}::text, 'metadata', '{}'::jsonb), '[]'::jsonb, 0, now(), now()
        from generate_series(1, ${n}) g`);
      await standInDbHandle.db.execute(sql`
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
    /**
     * Gives each instance's simulated machine its controller token, as `machineConfigFor`
     * does for machines the fleet creates (seedFleet writes the machines directly).
     */
    async setControllerTokens(instanceIds: string[]): Promise<void> {
      const rows = await watch.query<{ id: string; machine_id: string }>(
        'select id, machine_id from instances where id = any($1::uuid[])',
        [instanceIds],
      );
      const secret = config.controller.secret ?? '';
      const pairs = await Promise.all(
        rows.rows.map(async (r) => ({ m: r.machine_id, t: await controllerToken(secret, r.id) })),
      );
      await standInDbHandle.db.execute(sql`
        update sim_fly_machines m
        set config = jsonb_set(m.config, '{env}', jsonb_build_object(${CONTROLLER_TOKEN_ENV}::text, p.t))
        from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as p(m text, t text)
        where m.id = p.m`);
    },
    counts(): SqlCounts {
      return sqlCounts(appDb);
    },
    /** CPU time of this process (the app, and the bench's own polling) so far, in ms. */
    appCpuMs(): number {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    standInsCpuMs: () => standIns.cpuMs(),
    /** Messages published to the QStash emulator so far. */
    async messages(): Promise<number> {
      const r = await standInWatch.query<{ n: string }>(
        'select count(*) as n from sim_qstash_messages',
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    async close() {
      await standIns.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await watch.end();
      await standInWatch.end();
      await standInDbHandle.close();
      await app.close();
      await adminQuery(adminUrl, [
        `drop database if exists ${appDb} with (force)`,
        `drop database if exists ${standInDb} with (force)`,
      ]).catch(() => {});
    },
  };
}

export type ThroughputRig = Awaited<ReturnType<typeof throughputRig>>;
