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
