import { sql } from 'drizzle-orm';
import { connect } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import { freePort, startNode, waitForOutput } from '../helpers/process.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const INSTANCES = 100_000;
const REQUESTS = 200;

/** 100,000 instances over six regions and three versions, with a few stopped and failed. */
export async function seedInstances(url: string) {
  const database = await connect({ kind: 'postgres', url }, { maxConnections: 1 });
  try {
    await migrate(database);
    await database.db.execute(sql`
      insert into image_catalog (image_tag, version_label, is_latest, published_at) values
        ('registry.fly.io/agent:v1.0.0', 'v1.0.0', false, now() - interval '60 days'),
        ('registry.fly.io/agent:v1.1.0', 'v1.1.0', false, now() - interval '30 days'),
        ('registry.fly.io/agent:v1.2.0', 'v1.2.0', true, now() - interval '2 days')`);
    await database.db.execute(sql`
      with u as (
        insert into users (email, display_name)
        select 'user' || g || '@example.com', 'User ' || g from generate_series(1, ${INSTANCES}) g
        returning id, email
      ), n as (select u.*, row_number() over () as i from u)
      insert into instances (user_id, name, app_name, machine_id, region, image_tag, status, created_at)
      select id, 'agent-' || i, 'agents-prod', substr(md5(email), 1, 14),
        (array['ams','iad','sin','fra','syd','gru'])[1 + i % 6],
        (array['registry.fly.io/agent:v1.0.0','registry.fly.io/agent:v1.1.0','registry.fly.io/agent:v1.2.0'])[1 + (i / 7) % 3],
        case when i % 50 = 0 then 'stopped' when i % 997 = 0 then 'failed' else 'running' end,
        now() - (i * interval '1 minute')
      from n`);
    await database.db.execute(sql`analyze`);
  } finally {
    await database.close();
  }
}

export async function timed(url: string, cookie: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { Cookie: cookie } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return { ms: performance.now() - started, body };
}

export const instancesListBench: Bench = {
  name: 'instances-list',
  description: `Console instances page at ${INSTANCES.toLocaleString('en')} instances: p50/p99 over ${REQUESTS} requests from a second process`,
  async run(emit: Emit) {
    const pg = await startTestServer();
    const name = `fw_bench_${Date.now()}`;
    await adminQuery(pg.adminUrl, [`create database ${name}`]);
    const url = withDatabase(pg.adminUrl, name);
    const seedStarted = performance.now();
    await seedInstances(url);
    emit('seed_time', performance.now() - seedStarted, 'ms', { instances: INSTANCES });

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
      // Doorbells are not exercised here; a closed local port fails fast.
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

      // A mix of what admins do: first page, deep pages (following cursors), other sorts,
      // search and filters. Each scenario is requested in turn.
      let cursor: string | null = null;
      const scenarios: { name: string; path: () => string }[] = [
        { name: 'first_page', path: () => '/admin/instances' },
        { name: 'next_page', path: () => `/admin/instances${cursor ? `?cursor=${cursor}` : ''}` },
        { name: 'sort_name', path: () => '/admin/instances?sort=name&order=asc' },
        { name: 'sort_region_desc', path: () => '/admin/instances?sort=region&order=desc' },
        {
          name: 'search_email',
          path: () => `/admin/instances?q=user${1000 + Math.floor(Math.random() * 90000)}@`,
        },
        { name: 'filter_status', path: () => '/admin/instances?status=stopped' },
        {
          name: 'filter_region_sort_version',
          path: () => '/admin/instances?region=sin&sort=version',
        },
      ];
      for (let i = 0; i < 20; i++)
        await timed(`${base}${scenarios[i % scenarios.length]?.path()}`, cookie);
      const all: number[] = [];
      const per = new Map<string, number[]>();
      for (let i = 0; i < REQUESTS; i++) {
        const scenario = scenarios[i % scenarios.length];
        if (!scenario) continue;
        const { ms, body } = await timed(`${base}${scenario.path()}`, cookie);
        if (scenario.name === 'next_page' || scenario.name === 'first_page') {
          cursor =
            body.match(/href="\/admin\/instances\?[^"]*cursor=([^"&]+)[^"]*" rel="next"/)?.[1] ??
            null;
        }
        all.push(ms);
        per.set(scenario.name, [...(per.get(scenario.name) ?? []), ms]);
      }
      const context = { instances: INSTANCES, requests: REQUESTS };
      emit('p50', quantile(all, 0.5), 'ms', context);
      emit('p99', quantile(all, 0.99), 'ms', context);
      for (const [scenario, samples] of per)
        emit(`${scenario}_p50`, quantile(samples, 0.5), 'ms', {
          ...context,
          samples: samples.length,
        });
    } finally {
      await server.stop();
      await adminQuery(pg.adminUrl, [`drop database if exists ${name} with (force)`]).catch(
        () => {},
      );
      await pg.stop();
    }
  },
};
