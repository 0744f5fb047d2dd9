import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, queryRows } from '../../db/client.ts';
import { createApp } from '../../src/app.ts';
import { FIRES_PATH } from '../../src/triggers/model.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { makeInstance } from '../helpers/factories.ts';
import { fakeController } from '../helpers/fake-controller.ts';
import { qstashSignature } from '../helpers/signing.ts';

const DUE = new Date('2026-12-04T09:00:00Z');
const AGENTS = 2_000;
const TICKERS = 8;

describe('firing under concurrency', async () => {
  // 40 s after the fire time: the sweep's tick takes what is due over 30 s ago.
  const clock = testClock(new Date(DUE.getTime() + 40_000));
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const instances = await Promise.all(Array.from({ length: 20 }, () => makeInstance(t)));

  // Eight copies of the app, each with a pool of its own: eight processes' worth of connections.
  const tickers = await Promise.all(
    Array.from({ length: TICKERS }, async () => {
      const database = await connect({ kind: 'postgres', url: t.db.url }, { maxConnections: 3 });
      return { database, app: createApp({ ...t.deps, db: database.db }) };
    }),
  );
  afterAll(async () => {
    for (const x of tickers) await x.database.close();
  });
  const post = async (
    app: (typeof tickers)[number]['app'],
    path: string,
    body: unknown,
    id: string,
  ) => {
    const url = t.url(path);
    const raw = JSON.stringify(body);
    const res = await app.request(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Upstash-Signature': await qstashSignature({ url, body: raw }),
        'Upstash-Message-Id': id,
      },
      body: raw,
    });
    return { status: res.status, body: await res.json() };
  };
  const sessionCounts = async (kind: 'hourly' | 'dup') =>
    queryRows<{ agent_id: string; n: number; fire: string }>(
      t.db.db,
      sql`select a.id as agent_id, count(s.id)::int as n, min(s.scheduled_for)::text as fire
          from agents a left join agent_sessions s on s.agent_id = a.id and s.trigger = 'cron'
          where a.name like ${`${kind}-%`} group by a.id`,
    );

  it(`${TICKERS} concurrent tickers over ${AGENTS} due agents fire each exactly once`, async () => {
    await t.db.db.execute(sql`
      insert into agents (instance_id, name, prompt, cron_expression, time_zone, next_fire_at, overlap_policy)
      select (${sql.raw(`array[${instances.map((i) => `'${i.id}'::uuid`).join(',')}]`)})[1 + g % 20],
        'hourly-' || g, 'Summarise the day.', '0 * * * *', 'UTC', ${DUE.toISOString()}::timestamptz, 'skip'
      from generate_series(1, ${AGENTS}) g`);
    // Every ticker sweeps until nothing is due, all at once (a tick stops after its budget).
    for (let round = 0; round < 10; round++) {
      const runs = await Promise.all(
        tickers.map((x, i) => post(x.app, '/api/callbacks/sweep', {}, `sweep-${round}-${i}`)),
      );
      expect(runs.every((r) => r.status === 200)).toBe(true);
      const [left] = await queryRows<{ n: number }>(
        t.db.db,
        sql`select count(*)::int as n from agents where enabled and next_fire_at <= ${DUE.toISOString()}::timestamptz`,
      );
      if (left?.n === 0) break;
    }
    const counts = await sessionCounts('hourly');
    expect(counts).toHaveLength(AGENTS);
    expect(counts.filter((c) => c.n !== 1)).toEqual([]);
    expect(new Set(fake.startedAgents()).size).toBe(AGENTS);
    expect(fake.calls.start).toBe(AGENTS);
    const [next] = await queryRows<{ next: string; n: number }>(
      t.db.db,
      sql`select next_fire_at::text as next, count(*)::int as n from agents where name like 'hourly-%' group by 1`,
    );
    expect(next).toEqual({ next: '2026-12-04 10:00:00+00', n: AGENTS });
    // Real concurrency on a shared 2-core machine: 2,000 starts take seconds, not milliseconds.
  }, 120_000);

  it('duplicate doorbells for one fire time, on eight connections at once, start one session', async () => {
    await t.db.db.execute(sql`
      insert into agents (instance_id, name, prompt, cron_expression, time_zone, next_fire_at, overlap_policy)
      select ${instances[0]?.id}::uuid, 'dup-' || g, 'Check.', '0 * * * *', 'UTC', ${DUE.toISOString()}::timestamptz, 'allow_all'
      from generate_series(1, 50) g`);
    const agents = await queryRows<{ id: string }>(
      t.db.db,
      sql`select id from agents where name like 'dup-%'`,
    );
    await Promise.all(
      agents.flatMap((a) =>
        tickers.map((x, i) =>
          post(x.app, FIRES_PATH, { agentId: a.id, fireAt: DUE.toISOString() }, `dup-${a.id}-${i}`),
        ),
      ),
    );
    const counts = await sessionCounts('dup');
    expect(counts.map((c) => c.n)).toEqual(agents.map(() => 1));
    expect(agents.map((a) => fake.sessionsOf(a.id).length)).toEqual(agents.map(() => 1));
  });
});
