import { inArray, sql } from 'drizzle-orm';
import { instanceOperations, instances } from '../../db/schema/index.ts';
import { seedDemoFleet } from '../../src/fleet/seed.ts';
import { embeddedOnPostgres } from './embedded-app.ts';
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
    const app = await embeddedOnPostgres({ FLY_SIMULATOR_TIME_SCALE: '0.1' });
    const { booted } = app;
    try {
      await seedDemoFleet(booted.deps);
      const { db } = booted.deps;
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
        targets.map((id) => app.call('POST', `/instances/${id}/restart`)),
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
      await app.close();
    }
  },
};
