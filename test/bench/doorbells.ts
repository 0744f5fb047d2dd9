import { serve } from '@hono/node-server';
import { Client } from '@upstash/qstash';
import { migrateWithStandIns } from '../../db/migrate.ts';
import { loadStaticAssets, peerAddress } from '../../host.ts';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { boot } from '../../src/boot.ts';
import { parseConfig } from '../../src/config.ts';
import { createDevServers } from '../../src/dev-servers/index.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';
import { freePort } from '../helpers/process.ts';
import { type Bench, type Emit, quantile } from './report.ts';

/**
 * The embedded product (the QStash emulator delivering on its own), served on a port, with
 * one extra callback route that verifies each delivery's signature like every real
 * callback and records when it arrived. Its database is a fresh one on `TEST_DATABASE_URL`'s
 * server when that is set (as the other benches do), else PGlite in memory (the embedded
 * default, and what these figures were first measured on).
 */
async function embedded() {
  const port = await freePort();
  const external = process.env.TEST_DATABASE_URL;
  const dbName = `fw_bench_doorbells_${Date.now()}`;
  if (external) await adminQuery(external, [`create database ${dbName}`]);
  const parsed = parseConfig({
    FLEETWARDEN_MODE: 'embedded',
    DATABASE_URL: external ? withDatabase(external, dbName) : 'memory://',
    PORT: String(port),
    LOG_LEVEL: 'warn',
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
  const base = `http://localhost:${port}`;
  const destination = `${base}/__bench/doorbell`;
  const arrivals = new Map<number, number>();
  booted.app.post('/__bench/doorbell', async (c) => {
    const body = await c.req.text();
    const signature = c.req.header('upstash-signature') ?? '';
    if (!(await booted.deps.signatures.verify({ signature, body, url: destination })))
      return c.text('bad signature', 401);
    arrivals.set((JSON.parse(body) as { i: number }).i, Date.now());
    return c.json({ ok: true });
  });
  const server = serve({ fetch: booted.app.fetch, port, hostname: '127.0.0.1' });
  booted.deps.dev.qstash?.engine.start();
  return {
    destination,
    arrivals,
    database: external ? 'postgres (TEST_DATABASE_URL)' : 'pglite',
    client: new Client({
      baseUrl: `${base}/__dev/qstash`,
      token: LOCAL_QSTASH.token,
      enableTelemetry: false,
    }),
    async close() {
      await booted.close();
      server.close();
      if (external)
        await adminQuery(external, [`drop database if exists ${dbName} with (force)`]).catch(
          () => {},
        );
    },
  };
}

const MESSAGES = 1000;

export const doorbellLatenessBench: Bench = {
  name: 'doorbell-lateness',
  description: `${MESSAGES} doorbells due at the same second, embedded mode: delivery delay after the due time`,
  async run(emit: Emit) {
    const app = await embedded();
    try {
      const dueSecond = Math.ceil(Date.now() / 1000) + 4;
      for (let start = 0; start < MESSAGES; start += 100) {
        await app.client.batchJSON(
          Array.from({ length: Math.min(100, MESSAGES - start) }, (_, k) => ({
            url: app.destination,
            body: { i: start + k },
            notBefore: dueSecond,
          })),
        );
      }
      const deadline = Date.now() + 60_000;
      while (app.arrivals.size < MESSAGES && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      if (app.arrivals.size < MESSAGES)
        throw new Error(
          `only ${app.arrivals.size} of ${MESSAGES} doorbells arrived within a minute`,
        );
      const lateness = [...app.arrivals.values()].map((at) => at - dueSecond * 1000);
      const context = {
        messages: MESSAGES,
        delivered: app.arrivals.size,
        database: app.database,
        destination: 'own callback route',
      };
      emit('p50', quantile(lateness, 0.5), 'ms', context);
      emit('p99', quantile(lateness, 0.99), 'ms', context);
      emit('max', Math.max(...lateness), 'ms', context);
      emit('early', lateness.filter((ms) => ms < 0).length, 'count', context);
    } finally {
      await app.close();
    }
  },
};

export const doorbellPublishBench: Bench = {
  name: 'doorbell-publish',
  description:
    'Publish throughput through the official SDK batchJSON (100 per batch) into the embedded emulator',
  async run(emit: Emit) {
    const app = await embedded();
    try {
      const total = 2000;
      const started = performance.now();
      for (let start = 0; start < total; start += 100) {
        await app.client.batchJSON(
          Array.from({ length: 100 }, (_, k) => ({
            url: app.destination,
            body: { i: start + k },
            delay: 3600,
          })),
        );
      }
      const seconds = (performance.now() - started) / 1000;
      emit('batch_publish', total / seconds, 'per_s', {
        messages: total,
        batchSize: 100,
        database: app.database,
      });
    } finally {
      await app.close();
    }
  },
};
