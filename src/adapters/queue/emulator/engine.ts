import type { EmulatorContext } from './context.ts';
import { deliverBatch } from './delivery.ts';
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
 * second), claims due messages in batches and delivers them with bounded concurrency.
 * Timers use real time; due times come from the context's clock.
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

  const engine: DeliveryEngine = {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          try {
            const delivered = await tick();
            if (delivered === 0) await sleepUntilDue();
          } catch (err) {
            ctx.log.error('qstash_emulator.loop_error', { error: err });
            await new Promise((r) => setTimeout(r, 250));
          }
        }
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
