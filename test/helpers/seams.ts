import { inArray } from 'drizzle-orm';
import { expect } from 'vitest';
import { agentSessions, cliRuns } from '../../db/schema/index.ts';
import type { TestApp } from './app.ts';
import { simControllerState } from './sim-controller.ts';

/**
 * What the simulated controllers run against what our rows say, for the given machines:
 * nothing untracked (every live run or session on a controller has a row that is live, or
 * whose cancel is still owed) and nothing doubled (one controller run per `cli_runs` row,
 * one session per `agent_sessions` row). Returns the mismatches in words (empty: they agree).
 */
export async function simAgainstRows(t: TestApp, machineIds: string[]): Promise<string[]> {
  const machines = (await simControllerState(t)).filter((m) => machineIds.includes(m.machineId));
  const runs = await t.db.db.select().from(cliRuns).where(inArray(cliRuns.machineId, machineIds));
  const sessions = machines.flatMap((m) => m.sessions);
  const sessionRows = sessions.length
    ? await t.db.db
        .select()
        .from(agentSessions)
        .where(
          inArray(
            agentSessions.id,
            sessions.map((s) => s.idempotencyKey),
          ),
        )
    : [];
  const wrong: string[] = [];
  for (const m of machines) {
    for (const r of m.runs) {
      const row = runs.find((x) => x.id === r.idempotencyKey || x.controllerRunId === r.runId);
      if (!row) {
        wrong.push(`run ${r.runId} (${r.status}) on ${m.machineId} has no row`);
        continue;
      }
      const tracked =
        row.status === 'starting' || row.status === 'running' || row.cleanup === 'pending';
      if (r.status === 'running' && !tracked)
        wrong.push(`run ${r.runId} is live but its row ${row.id} is ${row.status}`);
      if (row.controllerRunId && row.controllerRunId !== r.runId)
        wrong.push(
          `row ${row.id} names run ${row.controllerRunId}, the controller also ran ${r.runId}`,
        );
    }
    const keys = m.runs.map((r) => r.idempotencyKey).filter(Boolean);
    if (new Set(keys).size !== keys.length) wrong.push(`a run key started twice on ${m.machineId}`);
    for (const s of m.sessions) {
      const row = sessionRows.find((x) => x.id === s.idempotencyKey);
      const live = s.status === 'creating' || s.status === 'ready';
      if (!row) wrong.push(`session ${s.sessionId} on ${m.machineId} has no row`);
      else if (live && row.status !== 'creating' && row.status !== 'ready')
        wrong.push(`session ${s.sessionId} is live but its row ${row.id} is ${row.status}`);
      else if (row.controllerSessionId && row.controllerSessionId !== s.sessionId)
        wrong.push(`row ${row.id} names session ${row.controllerSessionId}, not ${s.sessionId}`);
    }
  }
  for (const row of runs)
    if (row.status === 'running') {
      const r = machines
        .find((m) => m.machineId === row.machineId)
        ?.runs.find((x) => x.runId === row.controllerRunId);
      if (!r)
        wrong.push(`row ${row.id} is running but its controller has no run ${row.controllerRunId}`);
    }
  return wrong;
}

/** Asserts {@link simAgainstRows} finds nothing. */
export async function expectSimMatchesRows(t: TestApp, machineIds: string[]) {
  expect(await simAgainstRows(t, machineIds)).toEqual([]);
}

/** The live sessions of an agent on the simulated controllers. */
export async function liveSimSessions(t: TestApp, agentId: string) {
  return (await simControllerState(t))
    .flatMap((m) => m.sessions)
    .filter((s) => s.agentId === agentId && (s.status === 'creating' || s.status === 'ready'));
}
