import type { Database } from '../db/client.ts';
import { connect } from '../db/client.ts';
import { createControllerClient, flyDevControllerUrl } from './adapters/controller/client.ts';
import { setupMailer } from './adapters/email/setup.ts';
import { setupFly } from './adapters/fly/setup.ts';
import { setupPusher } from './adapters/push/setup.ts';
import { setupQueue } from './adapters/queue/setup.ts';
import { createApp } from './app.ts';
import type { StaticAsset } from './assets.ts';
import { registerConfiguredAdminToken, registerConfiguredPlatformKey } from './auth/api-keys.ts';
import { ensureFirstAdmin } from './auth/bootstrap.ts';
import { DEFAULT_PBKDF2_ITERATIONS } from './auth/passwords.ts';
import { type Config, servesStandIns } from './config.ts';
import { type Deps, type DevServers, type DevServersInput, IN_PROCESS_ENV } from './deps.ts';
import { recoverAtStart, SWEEP_SCHEDULE } from './doorbells/run.ts';
import {
  DEPROVISION_LISTENERS,
  MACHINE_LOST_LISTENERS,
  OPERATION_LISTENERS,
  SWEEPERS,
} from './features.ts';
import { seedDemoFleet } from './fleet/seed.ts';
import { systemClock } from './lib/clock.ts';
import { randomToken } from './lib/crypto.ts';
import type { Logger } from './lib/log.ts';
import { isLoopback } from './lib/loopback.ts';
import { RECONCILE_SCHEDULE } from './recovery/model.ts';

/** What a runtime gives start-up: the parts that differ between Node, Deno and Vercel. */
export type Host = {
  log: Logger;
  /** Human-facing start-up lines (URL, first admin), printed as plain text. */
  print(line: string): void;
  /** Reads a secret file from the data folder, or null (embedded mode only). */
  readSecret(name: string): Promise<string | null>;
  writeSecret(name: string, value: string): Promise<void>;
  /** htmx and Swagger UI files from node_modules; [] where there is no filesystem. */
  staticAssets(): Promise<StaticAsset[]>;
  /** The TCP peer's address from the runtime's per-request `env` (see Deps). */
  peerAddress(env: unknown): string | null;
  /** Applies migrations; absent where they run as a separate step (Vercel). */
  migrate?(database: Database): Promise<void>;
  /**
   * Builds the local stand-ins embedded mode talks to (the Fly simulator and the QStash
   * emulator). The embedded entries (node.ts, main.ts) fill it with a dynamic import of
   * src/dev-servers, so this module, and with it every production start, never loads them.
   * Absent: the host serves none, and a configuration that needs them fails to boot.
   */
  devServers?(input: DevServersInput): Promise<DevServers>;
};

export type Booted = {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  database: Database;
  /**
   * Call once the server listens: starts the QStash emulator's delivery loop and creates
   * (or updates) the sweep's every-minute schedule. A failure is logged, not fatal: the
   * app serves, and the schedule is retried at the next start.
   */
  started(): Promise<void>;
  close(): Promise<void>;
};

/** A secret: configured, or generated once and kept in the data folder under `name`. */
async function secretFor(configured: string | null, name: string, host: Host): Promise<string> {
  if (configured) return configured;
  const existing = await host.readSecret(name);
  if (existing) return existing;
  const secret = randomToken(32);
  await host.writeSecret(name, secret);
  return secret;
}

function describeDatabase(database: Config['database']): string {
  if (database.kind === 'pglite')
    return database.dataDir ? `PGlite at ${database.dataDir}` : 'PGlite in memory';
  const url = new URL(database.url);
  return `${database.kind === 'neon' ? 'Neon' : 'PostgreSQL'} at ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
}

/** Printed when embedded mode is told to listen beyond this machine (`HOST`). */
function exposedWarning(host: string): string {
  return [
    `Warning: HOST=${host} makes embedded mode reachable from other machines.`,
    'The local stand-ins (the QStash emulator and the Fly simulator under /__dev) use published',
    'credentials. They answer only clients on this machine, but a proxy or tunnel on this',
    'machine that forwards to this port makes them reachable. Use production mode for real use.',
  ].join('\n');
}

/** The stand-ins when the configuration uses them (embedded mode), built by the host; else null. */
async function buildDevServers(
  config: Config,
  host: Host,
  db: Deps['db'],
): Promise<DevServers | null> {
  if (!servesStandIns(config)) return null;
  if (!host.devServers)
    throw new Error(
      'embedded mode needs the local Fly simulator and QStash emulator, which this entry does not serve; start it with node.ts or main.ts, or set FLEETWARDEN_MODE=production',
    );
  return host.devServers({ config, db, log: host.log });
}

/**
 * Start-up shared by every runtime: open the database, migrate (where the host can),
 * build the deps and the app, create the first admin on an empty database (printing its
 * one-time password once) and register `ADMIN_API_TOKEN`. Throws when any step fails.
 */
export async function boot(config: Config, host: Host): Promise<Booted> {
  const database = await connect(config.database);
  try {
    if (host.migrate) await host.migrate(database);
    const queue = setupQueue({ config });
    const standIns = await buildDevServers(config, host, database.db);
    // Against the local simulator, Fly's rate limits need not be waited out.
    const fly = setupFly({
      config,
      rateLimit: !config.fly.simulated,
      ...(standIns?.flyGatewayUrlFor ? { gatewayUrlFor: standIns.flyGatewayUrlFor } : {}),
    });
    const sessionSecret = await secretFor(config.sessionSecret, 'session-secret', host);
    // Kept like the session secret: the demo fleet's machines carry tokens derived from it.
    const controllerSecret = await secretFor(config.controller.secret, 'controller-secret', host);
    const deps: Deps = {
      config,
      db: database.db,
      clock: systemClock,
      log: host.log,
      doorbells: queue.doorbells,
      doorbellConsole: queue.doorbellConsole,
      signatures: queue.signatures,
      mailer: setupMailer(config, standIns?.outbox?.mailer ?? null),
      pusher: setupPusher(config, standIns?.outbox?.pusher ?? null),
      sweepers: SWEEPERS,
      operationListeners: OPERATION_LISTENERS,
      machineLostListeners: MACHINE_LOST_LISTENERS,
      deprovisionListeners: DEPROVISION_LISTENERS,
      fly: fly.client,
      gateway: fly.gateway,
      controller: createControllerClient({
        baseUrlFor: standIns?.controllerBaseUrlFor ?? flyDevControllerUrl,
        secret: controllerSecret,
        fetch: fly.fetch,
        timeoutMs: config.controller.timeoutMs,
      }),
      dev: standIns?.dev ?? { qstash: null, fly: null, outbox: null },
      peerAddress: host.peerAddress,
      staticAssets: await host.staticAssets(),
      security: {
        pbkdf2Iterations: DEFAULT_PBKDF2_ITERATIONS,
        sessionSecret,
        controllerSecret,
      },
    };
    const app = createApp(deps);
    // The app calling itself (the emulator's deliveries, the Fly client on the simulator)
    // passes IN_PROCESS_ENV, which the /__dev guard trusts as this machine.
    const inProcess = async (request: Request) => app.fetch(request, IN_PROCESS_ENV);
    standIns?.attachApp(inProcess);
    fly.attachApp(inProcess);
    const first = await ensureFirstAdmin(deps);
    if (config.adminApiToken) {
      const state = await registerConfiguredAdminToken(deps, config.adminApiToken);
      if (state === 'revoked')
        host.log.warn('config.admin_api_token_revoked', {
          hint: 'ADMIN_API_TOKEN was revoked in the console and stays revoked',
        });
    }
    if (config.platformApiKey) {
      const state = await registerConfiguredPlatformKey(deps, config.platformApiKey);
      if (state === 'revoked')
        host.log.warn('config.platform_api_key_revoked', {
          hint: 'PLATFORM_API_KEY was revoked in the console and stays revoked',
        });
    }
    host.print(`fleetwarden (${config.mode} mode) · ${describeDatabase(config.database)}`);
    host.print(
      `Admin console: ${config.publicUrl}/admin   API reference: ${config.publicUrl}/api/docs`,
    );
    if (config.mode === 'embedded' && !isLoopback(config.host))
      host.print(exposedWarning(config.host ?? 'every interface'));
    if (first.created) {
      host.print(`First admin: ${first.email}`);
      if (first.generated)
        host.print(
          `One-time password: ${first.password}   (shown once; you choose your own at first sign-in)`,
        );
      else host.print('Password: the one in ADMIN_PASSWORD');
    }
    return {
      app,
      deps,
      database,
      async started() {
        deps.dev.qstash?.engine.start();
        // Embedded mode is one process: whatever holds a lease now was held by the process
        // that stopped, so it is resumed at once rather than when the lease passes.
        if (config.mode === 'embedded') await recoverAtStart(deps);
        try {
          await deps.doorbells.upsertSchedule(SWEEP_SCHEDULE);
        } catch (err) {
          host.log.error('sweep.schedule_failed', {
            error: err,
            hint: 'doorbells whose message was lost wait until the sweep schedule exists',
          });
        }
        try {
          await deps.doorbells.upsertSchedule(RECONCILE_SCHEDULE);
        } catch (err) {
          host.log.error('reconcile.schedule_failed', {
            error: err,
            hint: 'stopped machines are not noticed until the reconcile schedule exists',
          });
        }
        if (config.mode === 'embedded' && config.fly.simulated) {
          try {
            const seeded = await seedDemoFleet(deps);
            if (seeded)
              host.print(`Seeded a demo fleet: ${seeded} instances in the local Fly simulator.`);
          } catch (err) {
            host.log.error('seed.failed', { error: err });
          }
        }
      },
      async close() {
        await deps.dev.qstash?.engine.stop();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
