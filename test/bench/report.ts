/** One figure per line: `{"bench","metric","value","unit",...context}` (JSON Lines). */
export type Emit = (
  metric: string,
  value: number,
  unit: string,
  context?: Record<string, unknown>,
) => void;

export function emitter(bench: string): Emit {
  return (metric, value, unit, context = {}) => {
    console.log(
      JSON.stringify({ bench, metric, value: Math.round(value * 100) / 100, unit, ...context }),
    );
  };
}

/** The q-th quantile (0–1) of samples, nearest-rank. */
export function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export type Bench = { name: string; description: string; run(emit: Emit): Promise<void> };
