import { sql } from 'drizzle-orm';
import { connect } from '../../db/client.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { freePort, startNode, waitForOutput } from '../helpers/process.ts';
import { seedInstances, timed } from './instances-list.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const INSTANCES = 100_000;
const ACTIONS = 1_000;
const TARGETS_PER_ACTION = 10;
const REQUESTS = 200;

/**
 * 1,000 scheduled actions of ten targets each, one stage apiece: mostly completed, some
 * halted and failed (with failed targets), five running and twenty scheduled.
 */
async function seedActions(url: string) {
  const database = await connect({ kind: 'postgres', url }, { maxConnections: 1 });
  try {
    await database.db.execute(sql`
      insert into scheduled_actions (id, action_type, reason, status, run_at, started_at,
        stage_percents, created_by, total, applied, failed)
      select md5('action' || g)::uuid, 'restart', 'bench action ' || g,
        case when g <= 5 then 'running' when g <= 25 then 'scheduled' when g % 50 = 0 then 'halted'
             when g % 97 = 0 then 'failed' else 'completed' end,
        case when g <= 25 and g > 5 then now() + g * interval '1 hour' else now() - g * interval '1 hour' end,
        case when g <= 5 or g > 25 then now() - g * interval '1 hour' end,
        '[100]'::jsonb, 'bench', ${TARGETS_PER_ACTION},
        case when g <= 25 then 0 when g % 50 = 0 or g % 97 = 0 then ${TARGETS_PER_ACTION - 2} else ${TARGETS_PER_ACTION} end,
        case when g % 50 = 0 or g % 97 = 0 then 2 else 0 end
      from generate_series(1, ${ACTIONS}) g`);
    await database.db.execute(sql`
      insert into scheduled_action_stages (id, action_id, index, scheduled_at, status, total)
      select md5('stage' || a.id)::uuid, a.id, 0, a.run_at,
        case a.status when 'running' then 'running' when 'scheduled' then 'pending'
          when 'halted' then 'halted' else 'completed' end, a.total
      from scheduled_actions a`);
    await database.db.execute(sql`
      with a as (select id, status, failed, row_number() over (order by id) - 1 as k from scheduled_actions),
      i as (select id, user_id, row_number() over (order by id) - 1 as k from instances)
      insert into scheduled_action_targets (action_id, stage_id, instance_id, user_id, status,
        error, next_attempt_at, finished_at)
      select a.id, md5('stage' || a.id)::uuid, i.id, i.user_id,
        case when a.status in ('running', 'scheduled') then 'pending'
             when (i.k % ${TARGETS_PER_ACTION}) < a.failed then 'failed' else 'applied' end,
        case when (i.k % ${TARGETS_PER_ACTION}) < a.failed and a.status not in ('running', 'scheduled')
             then 'machine never became healthy' end,
        now(), case when a.status not in ('running', 'scheduled') then now() end
      from a join i on i.k / ${TARGETS_PER_ACTION} = a.k`);
    await database.db.execute(sql`analyze`);
  } finally {
    await database.close();
  }
}

export const consoleBench: Bench = {
  name: 'console',
  description: `Console Overview page (/admin) at ${INSTANCES.toLocaleString('en')} instances and ${ACTIONS.toLocaleString('en')} actions: p50/p99 over ${REQUESTS} requests from a second process`,
  async run(emit: Emit) {
    const pg = await startTestServer();
    const name = `fw_bench_${Date.now()}`;
    await adminQuery(pg.adminUrl, [`create database ${name}`]);
    const url = withDatabase(pg.adminUrl, name);
    const seedStarted = performance.now();
    await seedInstances(url);
    await seedActions(url);
    emit('seed_time', performance.now() - seedStarted, 'ms', {
      instances: INSTANCES,
      actions: ACTIONS,
    });

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = startNode({
      FLEETWARDEN_MODE: 'production',
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: url,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
      CONTROLLER_SECRET: 'bench-controller-secret-0123456789abcdef',
      ADMIN_EMAIL: 'bench@example.com',
      ADMIN_PASSWORD: 'bench password 123',
      // Doorbells and Fly are not exercised here; a closed local port fails fast.
      QSTASH_URL: 'http://127.0.0.1:9',
      QSTASH_TOKEN: 'bench',
      FLY_API_TOKEN: 'bench',
      FLY_API_URL: 'http://127.0.0.1:9',
      QSTASH_CURRENT_SIGNING_KEY: 'sig_bench_current',
      QSTASH_NEXT_SIGNING_KEY: 'sig_bench_next',
    });
    try {
      await waitForOutput(server, /Listening on/);
      const login = await fetch(`${base}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'bench@example.com', password: 'bench password 123' }),
      });
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const context = { instances: INSTANCES, actions: ACTIONS, requests: REQUESTS };
      for (const [metric, path] of [
        ['overview', '/admin'],
        ['overview_live_fragment', '/admin/overview/live'],
      ] as const) {
        for (let i = 0; i < 20; i++) await timed(`${base}${path}`, cookie);
        const samples: number[] = [];
        for (let i = 0; i < REQUESTS; i++) samples.push((await timed(`${base}${path}`, cookie)).ms);
        const prefix = metric === 'overview' ? '' : `${metric}_`;
        emit(`${prefix}p50`, quantile(samples, 0.5), 'ms', { ...context, path });
        emit(`${prefix}p99`, quantile(samples, 0.99), 'ms', { ...context, path });
      }
    } finally {
      await server.stop();
      await adminQuery(pg.adminUrl, [`drop database if exists ${name} with (force)`]).catch(
        () => {},
      );
      await pg.stop();
    }
  },
};
