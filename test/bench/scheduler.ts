import { eq, sql } from 'drizzle-orm';
import { instances, scheduledActionTargets } from '../../db/schema/index.ts';
import { createFlyClient } from '../../src/adapters/fly/client.ts';
import { embeddedOnPostgres } from './embedded-app.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const median = (xs: number[]) => quantile(xs, 0.5);

export const scheduleTenThousandBench: Bench = {
  name: 'schedule-10k',
  description: 'Time to schedule one action for 10,000 instances (request time, 3 runs)',
  async run(emit: Emit) {
    const app = await embeddedOnPostgres();
    try {
      const { db } = app.booted.deps;
      await db.execute(
        sql`insert into image_catalog (image_tag, version_label, is_latest) values ('registry.fly.io/agent:1', '1', false), ('registry.fly.io/agent:2', '2', true)`,
      );
      await db.execute(sql`
        with u as (insert into users (email) select 'bench' || g || '@example.com' from generate_series(1, 10000) g returning id)
        insert into instances (user_id, name, app_name, machine_id, region, image_tag, status)
        select id, 'bench-' || row_number() over (), 'bench', md5(id::text), 'ams', 'registry.fly.io/agent:1', 'running' from u`);
      const times: number[] = [];
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        const res = await app.call('POST', '/scheduled-actions', {
          actionType: 'version_change',
          targetImageTag: 'registry.fly.io/agent:2',
          instances: { filter: { region: 'ams' } },
          runAt: new Date(Date.now() + 86_400_000).toISOString(),
          reason: 'bench',
          rollout: { stages: [1, 10, 100], intervalMinutes: 60, failureThresholdPercent: 5 },
        });
        times.push(performance.now() - started);
        if (res.status !== 201 || res.body.counts.total !== 10_000)
          throw new Error(
            `schedule failed: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`,
          );
        await app.call('POST', `/scheduled-actions/${res.body.id}/cancel`);
      }
      emit('schedule_10k', median(times), 'ms', {
        instances: 10_000,
        stages: 3,
        runs: times.map((t) => Math.round(t)),
      });
    } finally {
      await app.close();
    }
  },
};

const TARGETS = 1000;

/** 1,000 instances with simulated machines (200 ms starts), scheduled together. */
async function fleetApp() {
  const app = await embeddedOnPostgres({ FLY_SIMULATOR_TIME_SCALE: '0.1' });
  const { deps } = app.booted;
  const fly = createFlyClient({
    baseUrl: deps.config.fly.apiUrl,
    token: deps.config.fly.token,
    rateLimit: false,
  });
  await fly.createApp(deps.config.fly.appName);
  await deps.db.execute(
    sql`insert into image_catalog (image_tag, version_label, is_latest) values ('registry.fly.io/agent:1', '1', true)`,
  );
  await deps.db.execute(
    sql`insert into users (email) select 'lateness' || g || '@example.com' from generate_series(1, ${TARGETS}) g`,
  );
  const userIds = (await deps.db.execute(sql`select id from users order by email`)) as unknown as {
    rows: { id: string }[];
  };
  const ids: string[] = [];
  for (const [i, user] of userIds.rows.entries()) {
    const m = await fly.createMachine(deps.config.fly.appName, {
      region: 'ams',
      config: { image: 'registry.fly.io/agent:1' },
    });
    const [row] = await deps.db
      .insert(instances)
      .values({
        userId: user.id,
        name: `lateness-${i}`,
        appName: deps.config.fly.appName,
        machineId: m.id,
        region: 'ams',
        imageTag: 'registry.fly.io/agent:1',
        machineVersion: m.instance_id,
        status: 'running',
      })
      .returning({ id: instances.id });
    if (row) ids.push(row.id);
  }
  await new Promise((r) => setTimeout(r, 1000));
  return { app, fly, ids };
}

async function runAndMeasure(
  app: Awaited<ReturnType<typeof embeddedOnPostgres>>,
  ids: string[],
  runAt: Date | 'now',
) {
  const res = await app.call('POST', '/scheduled-actions', {
    actionType: 'restart',
    instances: { ids },
    runAt: runAt === 'now' ? 'now' : runAt.toISOString(),
    reason: 'bench',
  });
  if (res.status !== 201)
    throw new Error(`schedule failed: ${JSON.stringify(res.body).slice(0, 300)}`);
  const actionId = res.body.id as string;
  const due = Date.parse(res.body.runAt);
  const deadline = Date.now() + 10 * 60_000 + (due - Date.now());
  for (;;) {
    const a = (await app.call('GET', `/scheduled-actions/${actionId}`)).body;
    if (a.status !== 'scheduled' && a.status !== 'running') break;
    if (Date.now() > deadline) throw new Error('the action did not finish in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  const { db } = app.booted.deps;
  const rows = await db
    .select()
    .from(scheduledActionTargets)
    .where(eq(scheduledActionTargets.actionId, actionId));
  const applied = rows.filter((r) => r.appliedAt).map((r) => (r.appliedAt?.getTime() ?? 0) - due);
  const claimed = rows.filter((r) => r.claimedAt).map((r) => (r.claimedAt?.getTime() ?? 0) - due);
  return { actionId, applied, claimed, failed: rows.filter((r) => r.status === 'failed').length };
}

async function duplicateUpdates(
  fly: ReturnType<typeof createFlyClient>,
  app: string,
  machineIds: string[],
  expected: number,
) {
  let duplicates = 0;
  for (const id of machineIds) {
    const updates = (await fly.listMachineEvents(app, id)).filter(
      (e) => e.type === 'update' && e.source === 'user',
    ).length;
    if (updates > expected) duplicates += updates - expected;
  }
  return duplicates;
}

export const schedulerLatenessBench: Bench = {
  name: 'scheduler-lateness',
  description: `${TARGETS} targets due at the same second: lateness after runAt with 20 ms Fly latency, then applied/s at zero latency`,
  async run(emit: Emit) {
    const { app, fly, ids } = await fleetApp();
    const appName = app.booted.deps.config.fly.appName;
    try {
      // 20 ms on every Fly call (the simulator scales latency by its time scale, 0.1).
      await fetch(`${app.base}/__dev/fly/_faults`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${app.booted.deps.config.fly.token}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ latency: [{ endpoint: '*', ms: 200 }] }),
      });
      const runAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 62_000);
      const slow = await runAndMeasure(app, ids, runAt);
      const context = {
        targets: TARGETS,
        flyLatencyMs: 20,
        startMs: 200,
        stageConcurrency: 50,
        database: 'postgres',
      };
      emit('first_claimed', Math.min(...slow.claimed), 'ms', context);
      emit('last_claimed', Math.max(...slow.claimed), 'ms', context);
      emit('first_applied', Math.min(...slow.applied), 'ms', context);
      emit('last_applied', Math.max(...slow.applied), 'ms', context);
      emit('applied_p50', quantile(slow.applied, 0.5), 'ms', context);
      emit('applied_p99', quantile(slow.applied, 0.99), 'ms', context);
      emit('failed', slow.failed, 'count', context);

      await fetch(`${app.base}/__dev/fly/_faults`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${app.booted.deps.config.fly.token}` },
      });
      const fast = await runAndMeasure(app, ids, 'now');
      const span = (Math.max(...fast.applied) - Math.min(...fast.claimed)) / 1000;
      emit('applied_per_s', fast.applied.length / span, 'per_s', { ...context, flyLatencyMs: 0 });
      const machineIds = (
        await app.booted.deps.db.select({ m: instances.machineId }).from(instances)
      ).map((r) => r.m ?? '');
      emit('duplicates', await duplicateUpdates(fly, appName, machineIds, 2), 'count', {
        ...context,
        note: 'Fly updates beyond one per target',
      });
    } finally {
      await app.close();
    }
  },
};
