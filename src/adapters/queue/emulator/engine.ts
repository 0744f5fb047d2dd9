import type { EmulatorContext } from './context.ts';
import {
  type Delivered,
  deliverBatch,
  isOk,
  recordDelivered,
  recordFailureSafely,
  send,
} from './delivery.ts';
import { fireDueSchedules, nextScheduleAt } from './schedules.ts';
import { claimDue, nextDueAt } from './store.ts';

export type DeliveryEngine = {
  /** Starts the background loop (embedded mode). */
  start(): void;
  stop(): Promise<void>;
  /** Fires due schedules and delivers every message due now, once. Returns deliveries made. */
  tick(): Promise<number>;
  /** Ticks until nothing is due now (tests). */
  drain(maxRounds?: number): Promise<number>;
  /** Called when a message becomes due at `at`: wakes the loop if that is sooner. */
  wake(at: Date): void;
};

const BATCH = 200;
const CONCURRENCY = 64;
const LOCK_MS = 60_000;
/** The loop re-checks at least this often, so a message published by another process is not missed for long. */
const MAX_SLEEP_MS = 1000;

/**
 * The emulator's delivery loop: sleeps until the next due message or schedule (at most a
 * second), and keeps up to 64 deliveries in flight, claiming more as each one finishes
 * (a slow callback never holds back the messages behind it). Timers use real time; due
 * times come from the context's clock.
 */
export function createDeliveryEngine(ctx: EmulatorContext): DeliveryEngine {
  let running = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wakeUp: (() => void) | null = null;
  let plannedAt = Number.POSITIVE_INFINITY;
  let loop: Promise<void> | null = null;

  async function tick(): Promise<number> {
    await fireDueSchedules(ctx);
    let total = 0;
    for (;;) {
      const batch = await claimDue(ctx.db, ctx.now(), BATCH, LOCK_MS);
      if (batch.length === 0) return total;
      total += await deliverBatch(ctx, batch, CONCURRENCY);
    }
  }

  async function sleepUntilDue(): Promise<void> {
    const [msg, sched] = await Promise.all([nextDueAt(ctx.db), nextScheduleAt(ctx)]);
    const candidates = [msg, sched].filter((d): d is Date => d !== null).map((d) => d.getTime());
    const dueIn = candidates.length ? Math.min(...candidates) - ctx.now().getTime() : MAX_SLEEP_MS;
    const ms = Math.max(0, Math.min(MAX_SLEEP_MS, dueIn));
    plannedAt = Date.now() + ms;
    await new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    });
    wakeUp = null;
    plannedAt = Number.POSITIVE_INFINITY;
  }

  const inflight = new Set<Promise<unknown>>();
  let lastScheduleCheck = 0;
  // Successes finishing within a few milliseconds of each other are recorded together.
  let buffered: { item: Delivered; done: () => void }[] = [];
  let flushPending = false;
  const flush = async () => {
    const batch = buffered;
    buffered = [];
    flushPending = false;
    try {
      await recordDelivered(
        ctx,
        batch.map((b) => b.item),
      );
    } catch (err) {
      ctx.log.error('qstash_emulator.record_error', { count: batch.length, error: err });
    }
    for (const b of batch) b.done();
  };
  const record = (item: Delivered) =>
    new Promise<void>((resolve) => {
      buffered.push({ item, done: resolve });
      if (!flushPending) {
        flushPending = true;
        setTimeout(flush, 2);
      }
    });
  const deliverOne = async (message: Parameters<typeof send>[1]) => {
    const attempt = await send(ctx, message);
    if (isOk(attempt)) await record({ m: message, attempt });
    else await recordFailureSafely(ctx, message, attempt);
  };

  /** Claims what fits in the free delivery slots and starts those deliveries. */
  async function fill(): Promise<number> {
    if (Date.now() - lastScheduleCheck >= 250) {
      lastScheduleCheck = Date.now();
      await fireDueSchedules(ctx);
    }
    const free = CONCURRENCY - inflight.size;
    if (free <= 0) return 0;
    const batch = await claimDue(ctx.db, ctx.now(), Math.min(BATCH, free), LOCK_MS);
    for (const message of batch) {
      const delivery: Promise<unknown> = deliverOne(message)
        .catch((err) =>
          ctx.log.error('qstash_emulator.delivery_error', {
            messageId: message.messageId,
            error: err,
          }),
        )
        .finally(() => {
          inflight.delete(delivery);
          engine.wake(ctx.now());
        });
      inflight.add(delivery);
    }
    return batch.length;
  }

  const engine: DeliveryEngine = {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          try {
            const started = await fill();
            if (started === 0) await sleepUntilDue();
          } catch (err) {
            ctx.log.error('qstash_emulator.loop_error', { error: err });
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        await Promise.allSettled([...inflight]);
      })();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      wakeUp?.();
      await loop;
    },
    tick,
    async drain(maxRounds = 50) {
      let total = 0;
      for (let i = 0; i < maxRounds; i++) {
        const n = await tick();
        total += n;
        if (n === 0) break;
      }
      return total;
    },
    wake(at) {
      const inMs = at.getTime() - ctx.now().getTime();
      if (Date.now() + inMs < plannedAt) {
        if (timer) clearTimeout(timer);
        wakeUp?.();
      }
    },
  };
  return engine;
}
