import { inArray } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import type { TestApp } from './app.ts';
import { bearer, ownerHeader } from './factories.ts';

/**
 * A JSON caller for `/api/<surface>` with a token. On `platform` with a platform key it
 * acts for the owner of the instance or run the path names (`Fleetwarden-User`), as the
 * product's backend would; tenancy itself is tested in platform-tenancy.test.ts.
 */
export function caller(t: TestApp, surface: 'admin' | 'platform', token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await t.app.request(t.url(`/api/${surface}${path}`), {
      method,
      headers: {
        ...bearer(token),
        ...(surface === 'platform' ? await ownerHeader(t, path) : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/**
 * Delivers doorbells until no CLI run is live, moving the test clock `stepMs` between
 * rounds (follow polls come due) and giving the simulator's real-time runs a moment.
 */
export async function settleRuns(
  t: TestApp,
  options: { stepMs?: number; maxRounds?: number } = {},
) {
  for (let round = 0; round < (options.maxRounds ?? 60); round++) {
    await t.deliverDue();
    const live = await t.db.db
      .select({ id: cliRuns.id })
      .from(cliRuns)
      .where(inArray(cliRuns.status, ['starting', 'running']));
    if (live.length === 0) return round;
    t.clock.advance(options.stepMs ?? 2_000);
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error('CLI runs did not settle');
}
