import { inArray, sql } from 'drizzle-orm';
import { simFlyMachines } from '../../db/dev-schema/index.ts';
import { imageCatalog, instances, recoveries, users } from '../../db/schema/index.ts';
import type { FlyClient } from '../../src/adapters/fly/api.ts';
import type { Deps } from '../../src/deps.ts';
import { INSTANCE_METADATA_KEY } from '../../src/fleet/machine-config.ts';
import { embeddedOnPostgres } from './embedded-app.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const HOST_INSTANCES = 100;
const RECONCILE_INSTANCES = 10_000;
const ROUNDS = 3;
const TIME_SCALE = 0.1;
const IMAGE = 'registry.fly.io/agent:bench';
const median = (xs: number[]) => quantile(xs, 0.5);

/** Counts every Fly client call made while `counting` is on (wraps the methods in place). */
function countCalls(fly: FlyClient) {
  const state = { counting: false, calls: 0, byMethod: new Map<string, number>() };
  const target = fly as unknown as Record<string, unknown>;
  for (const key of Object.keys(target)) {
    const fn = target[key];
    if (typeof fn !== 'function') continue;
    target[key] = (...args: unknown[]) => {
      if (state.counting) {
        state.calls++;
        state.byMethod.set(key, (state.byMethod.get(key) ?? 0) + 1);
      }
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return state;
}

/**
 * `n` running instances whose machines (with volumes and one snapshot each) are made
 * through the Fly API. Returns their ids and machine ids.
 */
async function fleetWithSnapshots(deps: Deps, n: number, round: number) {
  const app = deps.config.fly.appName;
  const made: { id: string; machineId: string }[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const id = crypto.randomUUID();
      const [user] = await deps.db
        .insert(users)
        .values({ email: `bench-${round}-${i}-${id.slice(0, 6)}@example.test` })
        .returning({ id: users.id });
      const volume = await deps.fly.createVolume(app, {
        name: `bench_${round}_${i}`,
        region: 'ams',
        size_gb: 1,
        require_unique_zone: false,
      });
      await deps.fly.createSnapshot(app, volume.id);
      const machine = await deps.fly.createMachine(app, {
        name: `bench-${round}-${i}-${id.slice(0, 6)}`,
        region: 'ams',
        config: {
          image: IMAGE,
          mounts: [{ volume: volume.id, path: '/data' }],
          metadata: { [INSTANCE_METADATA_KEY]: id },
        },
      });
      await deps.db.insert(instances).values({
        id,
        userId: user?.id ?? '',
        name: `bench-${round}-${i}-${id.slice(0, 6)}`,
        appName: app,
        machineId: machine.id,
        volumeId: volume.id,
        region: 'ams',
        imageTag: IMAGE,
        machineVersion: machine.instance_id,
        status: 'running',
      });
      made.push({ id, machineId: machine.id });
    }),
  );
  return made;
}

/**
 * The embedded product on PostgreSQL, Fly simulator at time scale 0.1 (a start 200 ms, a
 * restore 200 ms), the QStash emulator delivering on its own.
 * 1. 100 instances whose machines' hosts become unreachable (each volume has a snapshot):
 *    time from the reconcile run until all are running again on replacements, and Fly
 *    calls per recovered instance; the floor is the simulated restore + start a single
 *    recovery must wait. Medians of 3 rounds.
 * 2. Reconcile at 10,000 instances (one app, one listing): run time, medians of 3, against
 *    the bare listing of the same 10,000 machines measured in the same run.
 */
export const recoveryBench: Bench = {
  name: 'recovery',
  description: `${HOST_INSTANCES} instances on unreachable hosts recovered by snapshot restore; reconcile at ${RECONCILE_INSTANCES} instances; medians of ${ROUNDS}`,
  async run(emit: Emit) {
    const app = await embeddedOnPostgres({
      FLY_SIMULATOR_TIME_SCALE: String(TIME_SCALE),
      RECOVERY_UNREACHABLE_SECONDS: '0',
    });
    const { deps } = app.booted;
    const counter = countCalls(deps.fly);
    const fault = (body: unknown) =>
      fetch(`${app.base}/__dev/fly/_faults`, {
        method: body ? 'POST' : 'DELETE',
        headers: {
          Authorization: `Bearer ${deps.config.fly.token}`,
          'Content-Type': 'application/json',
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    try {
      await deps.fly.createApp(deps.config.fly.appName).catch(() => {});
      await deps.db.insert(imageCatalog).values({ imageTag: IMAGE, versionLabel: 'bench' });
      const times: number[] = [];
      const perInstance: number[] = [];
      const failedCounts: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const fleet = await fleetWithSnapshots(deps, HOST_INSTANCES, round);
        await new Promise((r) => setTimeout(r, 500)); // machines start, snapshots finish
        await fault({ unreachable: { machine_ids: fleet.map((f) => f.machineId) } });
        counter.calls = 0;
        counter.counting = true;
        const started = performance.now();
        const run = await app.call('POST', '/reconcile');
        // At least this round's: a replacement of an earlier round may share a host (a zone)
        // with one made unreachable now, and is then recovered too.
        if (run.body.recoveriesStarted < HOST_INSTANCES)
          throw new Error(`reconcile began ${run.body.recoveriesStarted} recoveries`);
        const ids = fleet.map((f) => f.id);
        const deadline = Date.now() + 180_000;
        let settled = 0;
        while (Date.now() < deadline) {
          const [row] = await deps.db
            .select({
              settled: sql<number>`count(*) filter (where status in ('running', 'stopped', 'failed'))::int`,
              failed: sql<number>`count(*) filter (where status <> 'running')::int`,
            })
            .from(instances)
            .where(inArray(instances.id, ids));
          settled = row?.settled ?? 0;
          if (settled === HOST_INSTANCES) {
            failedCounts.push(row?.failed ?? 0);
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        times.push(performance.now() - started);
        counter.counting = false;
        perInstance.push(counter.calls / HOST_INSTANCES);
        await fault(null);
        if (settled !== HOST_INSTANCES) throw new Error(`only ${settled} recoveries ended`);
        console.error(`  round ${round + 1}: ${Math.round(times.at(-1) ?? 0)} ms`);
      }
      const floorMs = (2000 + 2000) * TIME_SCALE; // restore + start at this time scale
      const context = {
        instances: HOST_INSTANCES,
        timeScale: TIME_SCALE,
        rounds: times.map(Math.round),
      };
      emit('all_running_again', median(times), 'ms', context);
      emit('ratio_to_single_recovery_floor', median(times) / floorMs, 'x', { floorMs });
      emit('fly_calls_per_recovered_instance', median(perInstance), 'calls', {
        rounds: perInstance,
        byMethod: Object.fromEntries(counter.byMethod),
      });
      emit('not_running_after', median(failedCounts), 'count', { rounds: failedCounts });

      // 2. Reconcile at 10,000 instances: machines written straight into the simulator.
      // First let any recovery still going (an earlier round's replacement that shared a host
      // with one made unreachable later) end, so deleting its instance races nothing.
      for (let waited = 0; waited < 120; waited++) {
        const [active] = await deps.db
          .select({ n: sql<number>`count(*)::int` })
          .from(recoveries)
          .where(inArray(recoveries.status, ['pending', 'running']));
        if (!active?.n) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const fly = deps.config.fly.appName;
      await deps.db.execute(sql`delete from ${instances}`);
      const now = new Date();
      for (let start = 0; start < RECONCILE_INSTANCES; start += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) => {
          const n = start + i;
          return { id: crypto.randomUUID(), machineId: `m${String(n).padStart(13, '0')}`, n };
        });
        const [user] = await deps.db
          .insert(users)
          .values({ email: `bench-reconcile-${start}@example.test` })
          .returning({ id: users.id });
        await deps.db.insert(simFlyMachines).values(
          batch.map((b) => ({
            id: b.machineId,
            appName: fly,
            name: `rec-${b.n}`,
            region: 'ams',
            zone: 'z0000',
            state: 'started' as const,
            instanceId: `01BENCH${String(b.n).padStart(19, '0')}`,
            privateIp: 'fdaa::1',
            config: { image: IMAGE, metadata: { [INSTANCE_METADATA_KEY]: b.id } },
            createdAt: now,
            updatedAt: now,
          })),
        );
        await deps.db.insert(instances).values(
          batch.map((b) => ({
            id: b.id,
            userId: user?.id ?? '',
            name: `rec-${b.n}`,
            appName: fly,
            machineId: b.machineId,
            region: 'ams',
            imageTag: IMAGE,
            status: 'running' as const,
          })),
        );
      }
      const runs: number[] = [];
      const listings: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const l0 = performance.now();
        const machines = await deps.fly.listMachines(fly);
        listings.push(performance.now() - l0);
        const r0 = performance.now();
        const run = await app.call('POST', '/reconcile');
        runs.push(performance.now() - r0);
        if (run.body.compared !== RECONCILE_INSTANCES || machines.length < RECONCILE_INSTANCES)
          throw new Error(`compared ${run.body.compared} of ${machines.length}`);
      }
      const c2 = { instances: RECONCILE_INSTANCES, listCalls: 1, rounds: runs.map(Math.round) };
      emit('reconcile_run', median(runs), 'ms', c2);
      emit('fly_list_alone', median(listings), 'ms', { rounds: listings.map(Math.round) });
      emit('reconcile_to_listing_ratio', median(runs) / median(listings), 'x', c2);
    } finally {
      await app.close();
    }
  },
};
