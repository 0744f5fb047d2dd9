import type { EmulatorContext } from './context.ts';
import { type Delivered, isOk, recordDelivered, recordFailureSafely, send } from './delivery.ts';
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
/**
 * Deliveries in flight at once, unless the emulator is told otherwise. QStash itself sets
 * no small limit on parallel deliveries of plain publishes, so this is generous: the app's
 * own limits (a stage's `maxInFlight`), not the emulator's slots, should bound the work.
 */
export const DEFAULT_DELIVERY_CONCURRENCY = 256;
const LOCK_MS = 60_000;
/** The loop re-checks at least this often, so a message published by another process is not missed for long. */
const MAX_SLEEP_MS = 1000;
/** Schedules are checked at most this often (each check is a query). */
const SCHEDULE_CHECK_MS = 250;
/** Successes finishing within this many milliseconds of each other are recorded together. */
const RECORD_COALESCE_MS = 2;

/**
 * The emulator's delivery loop: sleeps until the next due message or schedule (at most a
 * second), and keeps up to `concurrency` deliveries in flight, claiming more as each one finishes
 * (a slow callback never holds back the messages behind it). Timers use real time; due
 * times come from the context's clock.
 */
export function createDeliveryEngine(
  ctx: EmulatorContext,
  concurrency = DEFAULT_DELIVERY_CONCURRENCY,
): DeliveryEngine {
  let running = false;
  let loop: Promise<void> | null = null;
  const inflight = new Set<Promise<unknown>>();
  const record = coalesce((batch: Delivered[]) => recordDelivered(ctx, batch), RECORD_COALESCE_MS);

  // Sleeping: a wake that arrives while the next due time is being looked up is kept in
  // `wokenEarly`, so it cannot be lost between the lookup and the timer.
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wakeUp: (() => void) | null = null;
  let planning = false;
  let wokenEarly = false;
  let plannedAt = Number.POSITIVE_INFINITY;

  let lastScheduleCheck = Number.NEGATIVE_INFINITY;
  async function fireSchedulesThrottled() {
    if (Date.now() - lastScheduleCheck < SCHEDULE_CHECK_MS) return;
    lastScheduleCheck = Date.now();
    await fireDueSchedules(ctx);
  }

  async function sleepUntilDue(): Promise<void> {
    planning = true;
    wokenEarly = false;
    const [msg, sched] = await Promise.all([nextDueAt(ctx.db), nextScheduleAt(ctx)]);
    planning = false;
    if (wokenEarly) return;
    const nowMs = ctx.now().getTime();
    const candidates: number[] = [];
    if (msg) candidates.push(msg.getTime() - nowMs);
    // A due schedule waits for the throttle, rather than spinning until it allows a check.
    if (sched)
      candidates.push(
        Math.max(sched.getTime() - nowMs, lastScheduleCheck + SCHEDULE_CHECK_MS - Date.now()),
      );
    const ms = Math.max(0, Math.min(MAX_SLEEP_MS, ...candidates));
    plannedAt = Date.now() + ms;
    await new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    });
    wakeUp = null;
    plannedAt = Number.POSITIVE_INFINITY;
  }

  const deliverOne = async (message: Parameters<typeof send>[1]) => {
    const attempt = await send(ctx, message);
    if (isOk(attempt)) await record({ m: message, attempt });
    else await recordFailureSafely(ctx, message, attempt);
  };

  /** Claims what fits in the free delivery slots and starts those deliveries. */
  async function fill(): Promise<number> {
    await fireSchedulesThrottled();
    const free = concurrency - inflight.size;
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

  /** Delivers everything due now, the same way the loop does, and waits for it. */
  async function tick(): Promise<number> {
    lastScheduleCheck = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (;;) {
      total += await fill();
      if (inflight.size === 0) return total;
      await Promise.race(inflight);
    }
  }

  const engine: DeliveryEngine = {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          try {
            const started = await fill();
            // All slots busy: wait for one to free instead of asking the database again.
            if (inflight.size >= concurrency) await Promise.race(inflight);
            else if (started === 0) await sleepUntilDue();
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
      if (planning) {
        wokenEarly = true;
        return;
      }
      const inMs = at.getTime() - ctx.now().getTime();
      if (Date.now() + inMs < plannedAt) {
        if (timer) clearTimeout(timer);
        wakeUp?.();
      }
    },
  };
  return engine;
}

/**
 * Batches calls made within `ms` of the first into one `flush(items)`; each caller's
 * promise settles when its batch has been flushed (errors are the flusher's to handle).
 */
function coalesce<T>(flush: (items: T[]) => Promise<void>, ms: number) {
  let buffered: { item: T; done: () => void }[] = [];
  let pending = false;
  const run = async () => {
    const batch = buffered;
    buffered = [];
    pending = false;
    try {
      await flush(batch.map((b) => b.item));
    } finally {
      for (const b of batch) b.done();
    }
  };
  return (item: T) =>
    new Promise<void>((resolve) => {
      buffered.push({ item, done: resolve });
      if (!pending) {
        pending = true;
        setTimeout(run, ms);
      }
    });
}
