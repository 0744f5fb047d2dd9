/**
 * Parses QStash durations: `10s`, `5m`, `1h`, `1d`, combinations such as `1d10h30m`, or
 * a bare number of seconds. Returns seconds, or null when the text is not a duration.
 * Source: upstash/docs `qstash/features/delay.mdx` (Upstash-Delay).
 */
export function parseDurationSeconds(text: string | undefined | null): number | null {
  if (text === undefined || text === null) return null;
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^(\d+[smhd])+$/.test(value)) return null;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const [, n, u] of value.matchAll(/(\d+)([smhd])/g))
    total += Number(n) * (unit[u ?? 's'] ?? 1);
  return total;
}

/**
 * Parses a Go-style duration (`6m5s`, `1.5h`, `300ms`, units ns, us/µs, ms, s, m, h) into
 * milliseconds, as QStash accepts in `Retry-After`. Null when not a duration.
 */
export function parseGoDurationMs(text: string): number | null {
  const value = text.trim();
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) return null;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const [, n, , u] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(n) * (unit[u ?? 'ms'] ?? 1);
  return total;
}
