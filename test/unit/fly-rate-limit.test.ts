import { describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  createTokenBuckets,
  DEFAULT_RULE,
  ruleFor,
} from '../../src/adapters/fly/rate-limit.ts';

function fakeTime() {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    slept,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('fly rate limits (token buckets)', () => {
  it("uses Fly's published numbers: 1/s burst 3, get_machine 5/s burst 10", () => {
    expect(ruleFor('start_machine')).toEqual(DEFAULT_RULE);
    expect(DEFAULT_RULE).toEqual({ perSecond: 1, burst: 3 });
    expect(ruleFor('get_machine')).toEqual({ perSecond: 5, burst: 10 });
  });

  it('tryTake allows the burst, then says how long until the next token', () => {
    const t = fakeTime();
    const buckets = createTokenBuckets(t.now);
    const rule = { perSecond: 1, burst: 3 };
    for (let i = 0; i < 3; i++) expect(buckets.tryTake('start:m1', rule)).toEqual({ ok: true });
    expect(buckets.tryTake('start:m1', rule)).toEqual({ ok: false, retryAfterMs: 1000 });
    // Keys are independent: another machine has its own burst.
    expect(buckets.tryTake('start:m2', rule)).toEqual({ ok: true });
    t.advance(400);
    expect(buckets.tryTake('start:m1', rule)).toEqual({ ok: false, retryAfterMs: 600 });
    t.advance(600);
    expect(buckets.tryTake('start:m1', rule)).toEqual({ ok: true });
  });

  it('reserve queues callers fairly: each later one waits one more interval', () => {
    const t = fakeTime();
    const buckets = createTokenBuckets(t.now);
    const waits = Array.from({ length: 6 }, () =>
      buckets.reserve('get:m1', { perSecond: 5, burst: 3 }),
    );
    expect(waits).toEqual([0, 0, 0, 200, 400, 600]);
  });

  it('the limiter sleeps through the injected sleep instead of failing', async () => {
    const t = fakeTime();
    const limiter = createRateLimiter({ now: t.now, sleep: t.sleep });
    for (let i = 0; i < 5; i++) await limiter.acquire('stop_machine', 'm1');
    expect(t.slept).toEqual([1000, 1000]);
    await limiter.acquire('stop_machine', 'm2');
    expect(t.slept).toHaveLength(2);
  });

  it('never waits longer than maxWaitMs: it takes nothing and says when to come back', async () => {
    const t = fakeTime();
    // Time stands still while they wait, as for callers arriving together.
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
    };
    const limiter = createRateLimiter({ now: t.now, sleep, maxWaitMs: 1000 });
    for (let i = 0; i < 3; i++)
      expect(await limiter.acquire('stop_machine', 'm1')).toEqual({ ok: true });
    // Two callers at once: the first gets the turn in 1 s, the second would wait 2 s.
    const [first, second] = await Promise.all([
      limiter.acquire('stop_machine', 'm1'),
      limiter.acquire('stop_machine', 'm1'),
    ]);
    expect(first).toEqual({ ok: true });
    expect(second).toEqual({ ok: false, retryAfterMs: 2000 });
    expect(slept).toEqual([1000]);
  });
});
