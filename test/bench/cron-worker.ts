// One ticker process of `npm run bench -- cron`: waits for the fire time, then claims and
// starts due agents until none is left, and prints what it did as one JSON line. The
// controller answers at once (an in-process stub) and doorbells are counted, not sent, so
// the figures are the triggers' own work: claims, session rows, starts.
import { connect } from '../../db/client.ts';
import type { ControllerClient } from '../../src/adapters/controller/client.ts';
import { parseConfig } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { tickDueAgents } from '../../src/triggers/fire.ts';

const url = process.env.BENCH_DATABASE_URL ?? '';
const fireAt = Number(process.env.BENCH_FIRE_AT);
const parsed = parseConfig({ FLEETWARDEN_MODE: 'embedded', DATABASE_URL: url, LOG_LEVEL: 'warn' });
if (!parsed.ok) throw new Error(parsed.message);
const database = await connect({ kind: 'postgres', url }, { maxConnections: 4 });

let starts = 0;
let rings = 0;
const now = () => new Date().toISOString();
const controller = {
  startSession: async (_t: unknown, input: { agentId: string; trigger: string }) => {
    starts++;
    return {
      sessionId: crypto.randomUUID(),
      agentId: input.agentId,
      trigger: input.trigger,
      status: 'ready',
      createdAt: now(),
      endedAt: null,
      replayed: false,
    };
  },
} as unknown as ControllerClient;
const deps = {
  config: parsed.config,
  db: database.db,
  clock: systemClock,
  log: jsonLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) }),
  controller,
  doorbells: {
    ring: async () => {
      rings++;
      return 'msg';
    },
    ringMany: async (items: unknown[]) => {
      rings += items.length;
      return items.map(() => 'msg');
    },
    cancel: async () => {},
    upsertSchedule: async () => {},
  },
} as unknown as Deps;

await new Promise((resolve) => setTimeout(resolve, Math.max(0, fireAt - Date.now())));
let claimed = 0;
let idle = 0;
// A tick ends when a claim finds nothing; try a few more times in case others still hold rows.
while (idle < 3) {
  const run = await tickDueAgents(deps, { batch: 250, budgetMs: 120_000 });
  claimed += run.claimed;
  idle = run.claimed ? 0 : idle + 1;
  if (!run.claimed) await new Promise((resolve) => setTimeout(resolve, 50));
}
console.log(JSON.stringify({ claimed, starts, rings }));
await database.close();
