import { serve } from '@hono/node-server';
import { inArray, sql } from 'drizzle-orm';
import { migrate } from '../../db/migrate.ts';
import { instanceOperations, instances } from '../../db/schema/index.ts';
import { loadVendorAssets } from '../../host.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { boot } from '../../src/boot.ts';
import { parseConfig } from '../../src/config.ts';
import { SYSTEM_ACTOR } from '../../src/deps.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { freePort } from '../helpers/process.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const RESTARTS = 50;

/**
 * The embedded product on PostgreSQL with the Fly simulator at 200 ms machine starts
 * (time scale 0.1) and the QStash emulator delivering on its own: 50 immediate restarts
 * requested at once through the admin API, timed until every machine is healthy again.
 */
export const fleetRestartBench: Bench = {
  name: 'fleet-restart',
  description: `${RESTARTS} immediate restarts at once, 200 ms simulated start: time until all healthy`,
  async run(emit: Emit) {
    const pg = await startTestServer();
    const name = `fw_bench_restart_${Date.now()}`;
    await adminQuery(pg.adminUrl, [`create database ${name}`]);
    const port = await freePort();
    const parsed = parseConfig({
      FLEETWARDEN_MODE: 'embedded',
      DATABASE_URL: withDatabase(pg.adminUrl, name),
      PORT: String(port),
      FLY_SIMULATOR_TIME_SCALE: '0.1',
      LOG_LEVEL: 'warn',
    });
    if (!parsed.ok) throw new Error(parsed.message);
    const booted = await boot(parsed.config, {
      log: jsonLogger({ level: 'warn', write: () => {} }),
      print: () => {},
      readSecret: async () => 'bench-session-secret-0123456789abcdef',
      writeSecret: async () => {},
      vendorAssets: loadVendorAssets,
      peerAddress: () => null,
      migrate,
    });
    const server = serve({ fetch: booted.app.fetch, port, hostname: '127.0.0.1' });
    try {
      await booted.started(); // the delivery loop, the sweep schedule, the 60-instance demo fleet
      const { db } = booted.deps;
      const { key } = await createApiKey({
        ctx: { ...booted.deps, actor: SYSTEM_ACTOR, requestId: null },
        input: { kind: 'admin', label: 'bench' },
      });
      await new Promise((r) => setTimeout(r, 1000)); // let the seeded machines finish starting
      const targets = (
        await db
          .select({ id: instances.id })
          .from(instances)
          .where(sql`status = 'running'`)
          .limit(RESTARTS)
      ).map((r) => r.id);
      const started = performance.now();
      const responses = await Promise.all(
        targets.map((id) =>
          fetch(`${parsed.config.publicUrl}/api/admin/instances/${id}/restart`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}` },
          }),
        ),
      );
      const accepted = responses.filter((r) => r.status === 202).length;
      const finishedAt = new Map<string, number>();
      const deadline = Date.now() + 120_000;
      while (finishedAt.size < accepted && Date.now() < deadline) {
        const rows = await db
          .select({
            instanceId: instanceOperations.instanceId,
            status: instanceOperations.status,
            kind: instanceOperations.kind,
          })
          .from(instanceOperations)
          .where(inArray(instanceOperations.instanceId, targets));
        for (const r of rows)
          if (
            r.kind === 'restart' &&
            (r.status === 'succeeded' || r.status === 'failed') &&
            !finishedAt.has(r.instanceId)
          )
            finishedAt.set(r.instanceId, performance.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
      const times = [...finishedAt.values()];
      const context = { instances: accepted, startMs: 200, database: 'postgres' };
      emit('all_healthy', Math.max(...times), 'ms', context);
      emit('p50_healthy', quantile(times, 0.5), 'ms', context);
      emit('p99_healthy', quantile(times, 0.99), 'ms', context);
      const failed = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(instanceOperations)
        .where(
          sql`${instanceOperations.kind} = 'restart' and ${instanceOperations.status} = 'failed'`,
        );
      emit('failed', failed[0]?.n ?? 0, 'count', context);
    } finally {
      await booted.close();
      server.close();
      await adminQuery(pg.adminUrl, [`drop database if exists ${name} with (force)`]).catch(
        () => {},
      );
      await pg.stop();
    }
  },
};
