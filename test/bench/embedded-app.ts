import { serve } from '@hono/node-server';
import { migrateWithStandIns } from '../../db/migrate.ts';
import { loadStaticAssets, peerAddress } from '../../host.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { boot } from '../../src/boot.ts';
import { parseConfig } from '../../src/config.ts';
import { SYSTEM_ACTOR } from '../../src/deps.ts';
import { createDevServers } from '../../src/dev-servers/index.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { freePort } from '../helpers/process.ts';

/**
 * The whole product in embedded mode on a fresh PostgreSQL database, served on a port,
 * with the QStash emulator delivering on its own and an admin API token. `env` adds
 * configuration (e.g. FLY_SIMULATOR_TIME_SCALE). The demo fleet is not seeded.
 */
export async function embeddedOnPostgres(env: Record<string, string> = {}) {
  const pg = await startTestServer();
  const name = `fw_bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await adminQuery(pg.adminUrl, [`create database ${name}`]);
  const port = await freePort();
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'embedded',
    DATABASE_URL: withDatabase(pg.adminUrl, name),
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const booted = await boot(parsed.config, {
    log: jsonLogger({ level: 'warn', write: () => {} }),
    print: () => {},
    readSecret: async () => 'bench-session-secret-0123456789abcdef',
    writeSecret: async () => {},
    staticAssets: loadStaticAssets,
    peerAddress,
    migrate: migrateWithStandIns,
    devServers: async (input) => createDevServers(input),
  });
  const server = serve({ fetch: booted.app.fetch, port, hostname: '127.0.0.1' });
  booted.deps.dev.qstash?.engine.start();
  const { key } = await createApiKey({
    ctx: { ...booted.deps, actor: SYSTEM_ACTOR, requestId: null },
    input: { kind: 'admin', label: 'bench' },
  });
  const base = parsed.config.publicUrl;
  return {
    booted,
    base,
    async call(method: string, path: string, body?: unknown) {
      const res = await fetch(`${base}/api/admin${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${key}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async close() {
      await booted.close();
      server.close();
      await adminQuery(pg.adminUrl, [`drop database if exists ${name} with (force)`]).catch(
        () => {},
      );
      await pg.stop();
    },
  };
}
