import { describe, expect, it } from 'vitest';
import { sweepRuns } from '../../db/schema/index.ts';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { SWEEP_SCHEDULE } from '../../src/doorbells/run.ts';
import type { Sweeper } from '../../src/lib/work/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { qstashSignature } from '../helpers/signing.ts';

describe('signed callbacks and the sweep', async () => {
  const calls: Date[] = [];
  const counting: Sweeper = {
    name: 'counting',
    async sweep(_deps, now) {
      calls.push(now);
      return { found: 2, rerung: 1, leasesReturned: 1 };
    },
  };
  const failing: Sweeper = {
    name: 'failing',
    async sweep() {
      throw new Error('database unreachable for this sweeper');
    },
  };
  const t = await createTestApp({ serve: true, sweepers: [counting, failing] });
  const url = t.url('/api/callbacks/sweep');
  const body = '{}';
  const post = (headers: Record<string, string>, payload = body) =>
    t.app.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: payload,
    });
  const runs = () => t.db.db.select().from(sweepRuns);

  const matrix: [string, () => Promise<Record<string, string>>, number][] = [
    [
      'valid current key',
      async () => ({ 'Upstash-Signature': await qstashSignature({ url, body }) }),
      200,
    ],
    [
      'valid next key',
      async () => ({
        'Upstash-Signature': await qstashSignature({ url, body, key: LOCAL_QSTASH.nextSigningKey }),
      }),
      200,
    ],
    [
      'wrong key',
      async () => ({
        'Upstash-Signature': await qstashSignature({ url, body, key: 'sig_not_ours' }),
      }),
      401,
    ],
    [
      'expired token',
      async () => {
        const iat = Math.floor(Date.now() / 1000) - 3600;
        return { 'Upstash-Signature': await qstashSignature({ url, body, iat, exp: iat + 300 }) };
      },
      401,
    ],
    [
      'no exp claim',
      async () => ({ 'Upstash-Signature': await qstashSignature({ url, body, exp: null }) }),
      401,
    ],
    [
      'no nbf claim',
      async () => ({ 'Upstash-Signature': await qstashSignature({ url, body, nbf: null }) }),
      401,
    ],
    [
      'exp in the year 2100',
      async () => ({
        'Upstash-Signature': await qstashSignature({
          url,
          body,
          exp: Date.UTC(2100, 0, 1) / 1000,
        }),
      }),
      401,
    ],
    [
      'issued in the future (beyond the clock skew)',
      async () => {
        const iat = Math.floor(Date.now() / 1000) + 120;
        return { 'Upstash-Signature': await qstashSignature({ url, body, iat, nbf: iat - 200 }) };
      },
      401,
    ],
    [
      'issued 2 s ahead (within the clock skew)',
      async () => {
        const iat = Math.floor(Date.now() / 1000) + 2;
        return { 'Upstash-Signature': await qstashSignature({ url, body, iat }) };
      },
      200,
    ],
    [
      'wrong URL',
      async () => ({
        'Upstash-Signature': await qstashSignature({ url: t.url('/api/callbacks/other'), body }),
      }),
      401,
    ],
    [
      'altered body',
      async () => ({
        'Upstash-Signature': await qstashSignature({ url, body, bodyForHash: '{"x":1}' }),
      }),
      401,
    ],
    ['missing header', async () => ({}), 401],
  ];

  for (const [name, headers, status] of matrix) {
    it(`${name}: ${status}`, async () => {
      const before = (await runs()).length;
      const res = await post(await headers());
      expect(res.status).toBe(status);
      if (status === 401) {
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(await res.json()).toMatchObject({ type: '/problems/invalid-signature' });
        expect((await runs()).length).toBe(before);
      }
    });
  }

  it('records each sweep run with totals and per-sweeper counts, a failing sweeper included', async () => {
    const res = await post({
      'Upstash-Signature': await qstashSignature({ url, body }),
      'Upstash-Message-Id': 'msg_sweep_1',
    });
    expect(res.status).toBe(200);
    const result = await res.json();
    expect(result).toMatchObject({ ok: true, found: 2, rerung: 1, leasesReturned: 1 });
    const run = (await runs()).find((r) => r.id === result.runId);
    expect(run?.details.counting).toEqual({ found: 2, rerung: 1, leasesReturned: 1 });
    expect(run?.details.failing?.error).toContain('database unreachable');
  });

  it('treats a duplicate delivery of the same message as a no-op', async () => {
    const headers = {
      'Upstash-Signature': await qstashSignature({ url, body }),
      'Upstash-Message-Id': 'msg_sweep_dup',
    };
    const first = await (await post(headers)).json();
    const sweptSoFar = calls.length;
    const again = await (await post(headers)).json();
    expect(again.runId).toBe(first.runId);
    expect(calls.length).toBe(sweptSoFar);
    // Two copies racing: still one recorded run.
    const race = {
      'Upstash-Signature': await qstashSignature({ url, body }),
      'Upstash-Message-Id': 'msg_sweep_race',
    };
    const [a, b] = await Promise.all([post(race), post(race)]);
    expect((await a.json()).runId).toBe((await b.json()).runId);
    expect((await runs()).filter((r) => r.messageId === 'msg_sweep_race')).toHaveLength(1);
  });

  it('is rung through QStash by the every-minute schedule the app creates', async () => {
    await t.deps.doorbells.upsertSchedule(SWEEP_SCHEDULE);
    const schedules = await t.deps.doorbellConsole.schedules();
    expect(schedules.find((s) => s.scheduleId === SWEEP_SCHEDULE.id)).toMatchObject({
      cron: '* * * * *',
      destination: url,
    });
    const before = (await runs()).length;
    t.clock.advance(61_000);
    await t.deliverDue();
    await t.deliverDue();
    expect((await runs()).length).toBe(before + 1);
  });

  it('rings a doorbell that arrives no earlier than notBefore, signed for its exact URL', async () => {
    // The every-minute schedule would add runs of its own here.
    await fetch(`${t.origin}/__dev/qstash/v2/schedules/${SWEEP_SCHEDULE.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
    });
    // Upstash-Not-Before has second precision: a doorbell is due at the next whole second.
    const notBefore = new Date(Math.ceil(t.clock.now().getTime() / 1000) * 1000 + 45_000);
    const before = (await runs()).length;
    await t.deps.doorbells.ring({
      path: '/api/callbacks/sweep',
      body: {},
      notBefore,
      deduplicationId: 'ring-test',
    });
    await t.deps.doorbells.ring({
      path: '/api/callbacks/sweep',
      body: {},
      notBefore,
      deduplicationId: 'ring-test',
    });
    await t.deliverDue();
    t.clock.set(new Date(notBefore.getTime() - 1));
    await t.deliverDue();
    expect((await runs()).length).toBe(before);
    t.clock.set(notBefore);
    await t.deliverDue();
    expect((await runs()).length).toBe(before + 1);
  });
});
