import pg from 'pg';
import { connect } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { run } from '../helpers/process.ts';
import { type Bench, type Emit, quantile } from './report.ts';
import { guardedUpdateCeiling } from './scheduler-throughput.ts';

const AGENTS = Number(process.env.BENCH_CRON_AGENTS ?? 10_000);
const PROCESSES = 4;
const ROUNDS = 3;
const median = (xs: number[]) => quantile(xs, 0.5);

type Round = {
  allStartedMs: number;
  p99LatenessMs: number;
  duplicates: number;
  perSecond: number;
  sessions: number;
};

/**
 * One round: 10,000 enabled agents due at the same instant (the next whole minute), 4 ticker processes
 * (test/bench/cron-worker.ts, each with its own pool) waiting for it. Reads back from the
 * database when each session was started, so lateness is started_at − scheduled_for.
 */
async function round(url: string): Promise<Round> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('delete from agent_sessions');
  // The next whole minute at least 3 s ahead, and an expression that fires then (UTC).
  const fireAt = Math.ceil((Date.now() + 3_000) / 60_000) * 60_000;
  const at = new Date(fireAt);
  await client.query(
    `update agents set enabled = true, cron_expression = $2, time_zone = 'UTC',
       next_fire_at = to_timestamp($1 / 1000.0), last_fired_at = null`,
    [fireAt, `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`],
  );
  await client.query('analyze agents');
  const workers = Array.from({ length: PROCESSES }, () =>
    run(process.execPath, ['--import', 'tsx', 'test/bench/cron-worker.ts'], {
      BENCH_DATABASE_URL: url,
      BENCH_FIRE_AT: String(fireAt),
    }),
  );
  const codes = await Promise.all(workers.map((w) => w.exited));
  if (codes.some((c) => c !== 0)) throw new Error(workers.map((w) => w.output()).join('\n'));
  const reports = workers.map((w) => JSON.parse(w.output().trim().split('\n').at(-1) ?? '{}'));
  const starts = reports.reduce((n, r) => n + r.starts, 0);
  const { rows } = await client.query<{ lateness_ms: number }>(
    `select extract(epoch from (started_at - scheduled_for)) * 1000 as lateness_ms
     from agent_sessions where trigger = 'cron' and status = 'ready'`,
  );
  const [dup] = (
    await client.query<{ n: number }>(
      `select count(*)::int as n from (select 1 from agent_sessions group by agent_id, scheduled_for having count(*) > 1) d`,
    )
  ).rows;
  const statuses = (
    await client.query<{ status: string; n: number }>(
      `select status || coalesce(':' || reason, '') as status, count(*)::int as n from agent_sessions group by 1`,
    )
  ).rows;
  const [due] = (
    await client.query<{ n: number }>(
      'select count(*)::int as n from agents where next_fire_at <= to_timestamp($1 / 1000.0)',
      [fireAt],
    )
  ).rows;
  if (statuses.length !== 1 || due?.n)
    console.error(`round left: ${JSON.stringify({ statuses, due: due?.n, reports })}`);
  await client.end();
  const lateness = rows.map((r) => Number(r.lateness_ms));
  const last = Math.max(...lateness);
  return {
    allStartedMs: last,
    p99LatenessMs: quantile(lateness, 0.99),
    // A second session for a fire time, or a controller start that no session row records.
    duplicates: (dup?.n ?? 0) + Math.max(0, starts - rows.length),
    perSecond: rows.length / (last / 1000),
    sessions: rows.length,
  };
}

export const cronBench: Bench = {
  name: 'cron',
  description: `${AGENTS} agents due in the same minute, ${PROCESSES} ticker processes: time until all sessions started, p99 lateness, duplicates, starts per second; medians of ${ROUNDS}, against the guarded-UPDATE ceiling`,
  async run(emit: Emit) {
    const server = await startTestServer();
    const name = `fw_bench_cron_${Date.now()}`;
    await adminQuery(server.adminUrl, [`create database ${name}`]);
    const url = withDatabase(server.adminUrl, name);
    try {
      const database = await connect({ kind: 'postgres', url }, { maxConnections: 2 });
      await migrate(database);
      await database.close();
      const setup = new pg.Client({ connectionString: url });
      await setup.connect();
      await setup.query(`
        with u as (insert into users (email) select 'bench-' || g || '@example.test' from generate_series(1, 100) g returning id, email)
        insert into instances (user_id, name, app_name, machine_id, region, status)
        select u.id, split_part(u.email, '@', 1), 'agents-bench', md5(u.email), 'ams', 'running' from u`);
      await setup.query(`
        insert into agents (instance_id, name, prompt, cron_expression, time_zone, overlap_policy)
        select (select id from instances order by name offset (g % 100) limit 1), 'bench-' || g,
          'Summarise the day.', '0 9 * * *', 'Europe/Berlin', 'skip'
        from generate_series(1, ${AGENTS}) g`);
      await setup.end();
      const rounds: Round[] = [];
      const ceilings: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await round(url);
        console.error(`round ${i + 1}: ${JSON.stringify(r)}`);
        rounds.push(r);
        ceilings.push(await guardedUpdateCeiling(server.adminUrl));
      }
      const ceiling = median(ceilings);
      const perSecond = median(rounds.map((r) => r.perSecond));
      const context = { agents: AGENTS, processes: PROCESSES, rounds: ROUNDS };
      emit(
        'all_sessions_started_after_fire_time',
        median(rounds.map((r) => r.allStartedMs)),
        'ms',
        context,
      );
      emit('p99_lateness', median(rounds.map((r) => r.p99LatenessMs)), 'ms', context);
      emit('duplicates', Math.max(...rounds.map((r) => r.duplicates)), 'sessions', {
        ...context,
        worst: true,
      });
      emit('sessions_started_per_second', perSecond, '/s', context);
      emit('ceiling_guarded_updates_per_second', ceiling, '/s', { connections: 10 });
      emit('starts_per_second_of_ceiling', (perSecond / ceiling) * 100, '%', context);
    } finally {
      await adminQuery(server.adminUrl, [`drop database if exists ${name} with (force)`]);
      await server.stop();
    }
  },
};
