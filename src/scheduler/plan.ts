/** A stage as planned before anything is written: how many targets, and when. */
export type StagePlan = { index: number; size: number; scheduledAt: Date };

/**
 * Splits `total` targets into stages from cumulative percentages (e.g. [1, 10, 100]): stage
 * k holds the targets between ceil(total·p[k-1]/100) and ceil(total·p[k]/100). Stages that
 * would be empty are dropped, and the rest renumbered, so every stage has work. Stage k
 * (after dropping) is due `intervalSeconds` × k after `runAt`.
 * Percentages must be increasing and end at 100 (validated by the caller's schema).
 */
export function planStages(
  total: number,
  percents: number[],
  runAt: Date,
  intervalSeconds: number,
): StagePlan[] {
  const plans: StagePlan[] = [];
  let previous = 0;
  for (const pct of percents) {
    const upper = Math.min(total, Math.ceil((total * pct) / 100));
    const size = upper - previous;
    if (size > 0) {
      plans.push({
        index: plans.length,
        size,
        scheduledAt: new Date(runAt.getTime() + plans.length * intervalSeconds * 1000),
      });
      previous = upper;
    }
  }
  return plans;
}

/**
 * Stage assignment: orders instances by SHA-256 of `actionId:instanceId`, a stable shuffle
 * seeded by the action id, so which instance lands in which stage is reproducible.
 */
export async function assignStages<T extends { instanceId: string }>(
  actionId: string,
  eligible: T[],
): Promise<T[]> {
  const keyed = await Promise.all(
    eligible.map(async (c) => {
      const digest = new Uint8Array(
        await crypto.subtle.digest(
          'SHA-256',
          new TextEncoder().encode(`${actionId}:${c.instanceId}`),
        ),
      );
      return {
        c,
        key: Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(''),
      };
    }),
  );
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.c);
}
