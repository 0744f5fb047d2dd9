import { sql } from 'drizzle-orm';
import { queryRows } from '../../db/client.ts';
import { startFakeExpo, startFakeResend } from '../helpers/fake-providers.ts';
import { embeddedOnPostgres } from './embedded-app.ts';
import { type Bench, type Emit, quantile } from './report.ts';

const USERS = 10_000;
const PER_USER = 3;
const BATCH = 100;
const EMAIL_RATE = 10;
const LATENCY_MS = 50;
const ROUNDS = 3;
/** Time between scheduling and the notices' due time, so the due time is after commit. */
const DUE_IN_MS = 30_000;

const median = (xs: number[]) => quantile(xs, 0.5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * 30,000 targets (10,000 users × 3 instances) whose notices are due at once, on every
 * channel, sent through the real Resend and Expo adapters to local fakes that answer after
 * 50 ms, with batches of 100 and 10 requests/s for email (and push). Per round: time from
 * the due time (or from when scheduling committed, when that is later) until every
 * delivery is recorded (overall and per channel), p99 lateness of
 * the per-instance notices, messages the fakes received, duplicates (must be 0), and the
 * provider-limit floor, email messages ÷ (batch × rate), with the ratio to it. Each round
 * uses its own 10,000 users; medians of 3.
 */
export const noticesBench: Bench = {
  name: 'notices',
  description:
    '30,000 targets (10,000 users × 3) due at once; fake providers at 50 ms; batch 100; email 10 req/s',
  async run(emit: Emit) {
    const resend = await startFakeResend({ latencyMs: LATENCY_MS });
    const expo = await startFakeExpo({ latencyMs: LATENCY_MS });
    const app = await embeddedOnPostgres({
      RESEND_API_KEY: resend.apiKey,
      EMAIL_FROM: 'Fleet <fleet@example.test>',
      RESEND_API_URL: resend.url,
      EXPO_PUSH_URL: expo.url,
      EMAIL_REQUESTS_PER_SECOND: String(EMAIL_RATE),
      PUSH_REQUESTS_PER_SECOND: String(EMAIL_RATE),
    });
    const { db } = app.booted.deps;
    const figures: Record<string, number[]> = {};
    const add = (k: string, v: number) => {
      figures[k] = [...(figures[k] ?? []), v];
    };
    try {
      await db.execute(
        sql`insert into image_catalog (image_tag, version_label, is_latest) values ('registry.fly.io/agent:1', '1', true)`,
      );
      for (let round = 0; round < ROUNDS; round++) {
        const region = `r${round}`;
        process.stderr.write(`round ${round + 1}: seeding ${USERS} users × ${PER_USER}\n`);
        await db.execute(sql`
          with u as (
            insert into users (email, time_zone)
            select 'notice' || ${round} || '-' || g || '@example.com', 'Europe/Berlin'
            from generate_series(1, ${USERS}) g returning id)
          , t as (insert into user_push_tokens (token, user_id)
                  select 'ExponentPushToken[' || id || ']', id from u returning user_id)
          insert into instances (user_id, name, app_name, machine_id, region, image_tag, status)
          select u.id, 'n' || ${round} || '-' || row_number() over (), 'bench', md5(u.id::text || k),
                 ${region} || case when ('x' || substr(md5(u.id::text), 1, 8))::bit(32)::int % 2 = 0 then 'a' else 'b' end,
                 'registry.fly.io/agent:1', 'running'
          from u cross join generate_series(1, ${PER_USER}) k`);
        const emailBefore = resend.sent.length;
        const pushBefore = expo.sent.length;
        const requestsBefore = resend.requests;
        const runAt = new Date(Date.now() + 86_400_000 + DUE_IN_MS);
        const scheduled = performance.now();
        // One request takes at most 20,000 instances: each user's three go in one of two
        // actions (split by user), scheduled for the same time.
        const actionIds: string[] = [];
        let total = 0;
        for (const half of ['a', 'b']) {
          const res = await app.call('POST', '/scheduled-actions', {
            actionType: 'restart',
            instances: { filter: { region: `${region}${half}` } },
            runAt: runAt.toISOString(),
            reason: 'notices bench',
            leadMinutes: 1440,
          });
          if (res.status !== 201)
            throw new Error(
              `schedule failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
            );
          actionIds.push(res.body.id as string);
          total += res.body.counts.total as number;
        }
        if (total !== USERS * PER_USER) throw new Error(`scheduled ${total} targets`);
        add('schedule_ms', performance.now() - scheduled);
        const inActions = sql`action_id in (${sql.join(
          actionIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`;
        // Lateness counts from the due time, or from when scheduling committed if that was
        // later (rows cannot be sent before they exist; scheduling is schedule_ms).
        const dueAt = new Date(Math.max(runAt.getTime() - 1440 * 60_000, Date.now()));
        for (;;) {
          const [open] = await queryRows<{ n: number }>(
            db,
            sql`select count(*)::int as n from notice_deliveries where ${inActions} and status in ('pending', 'sending')`,
          );
          if (!open?.n) break;
          await sleep(250);
        }
        const per = await queryRows<{ channel: string; last_ms: number; n: number; sent: number }>(
          db,
          sql`select channel, count(*)::int as n, count(*) filter (where status = 'sent')::int as sent,
                     extract(epoch from max(sent_at) - ${dueAt.toISOString()}::timestamptz) * 1000 as last_ms
              from notice_deliveries where ${inActions} group by channel`,
        );
        const lateness = await queryRows<{ ms: number }>(
          db,
          sql`select extract(epoch from sent_at - greatest(due_at, ${dueAt.toISOString()}::timestamptz)) * 1000 as ms from scheduled_action_notices
              where ${inActions} and sent_at is not null`,
        );
        const emails = resend.sent.slice(emailBefore);
        const pushes = expo.sent.slice(pushBefore);
        const emailIds = emails.map((e) => e.tags.deliveryId);
        const pushIds = pushes.map((p) => `${p.data.deliveryId}|${p.to}`);
        const duplicates =
          emailIds.length - new Set(emailIds).size + (pushIds.length - new Set(pushIds).size);
        const email = per.find((p) => p.channel === 'email');
        const lastMs = Math.max(...per.map((p) => Number(p.last_ms)));
        const floorMs = (emails.length / (BATCH * EMAIL_RATE)) * 1000;
        add('all_sent_ms', lastMs);
        for (const p of per) add(`${p.channel}_all_sent_ms`, Number(p.last_ms));
        add(
          'p99_lateness_ms',
          quantile(
            lateness.map((l) => Number(l.ms)),
            0.99,
          ),
        );
        add('emails', emails.length);
        add('pushes', pushes.length);
        add('email_requests', resend.requests - requestsBefore);
        add('duplicates', duplicates);
        add(
          'unsent_deliveries',
          per.reduce((n, p) => n + p.n - p.sent, 0),
        );
        add('email_floor_ms', floorMs);
        add('email_ratio_to_floor', Number(email?.last_ms ?? 0) / floorMs);
        process.stderr.write(
          `round ${round + 1}: all sent ${Math.round(lastMs)} ms after due; ${emails.length} emails, ${pushes.length} pushes, ${duplicates} duplicates\n`,
        );
      }
      const context = {
        targets: USERS * PER_USER,
        users: USERS,
        batch: BATCH,
        emailRequestsPerSecond: EMAIL_RATE,
        providerLatencyMs: LATENCY_MS,
        rounds: ROUNDS,
      };
      const units: Record<string, string> = {
        emails: 'messages',
        pushes: 'messages',
        email_requests: 'requests',
        duplicates: 'messages',
        unsent_deliveries: 'deliveries',
        email_ratio_to_floor: 'x',
      };
      for (const [metric, values] of Object.entries(figures))
        emit(metric, median(values), units[metric] ?? 'ms', {
          ...context,
          runs: values.map((v) => Math.round(v * 100) / 100),
        });
    } finally {
      await app.close();
      await resend.close();
      await expo.close();
    }
  },
};
