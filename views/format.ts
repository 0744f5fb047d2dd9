/**
 * Time formatting for the console with the platform's Intl and @date-fns/tz (no home-made
 * date or offset math). Every rendered time names its zone.
 */
const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(
  zone: string,
  options: Intl.DateTimeFormatOptions,
  key: string,
): Intl.DateTimeFormat {
  const id = `${zone}|${key}`;
  let f = cache.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, ...options });
    cache.set(id, f);
  }
  return f;
}

/** "22 Nov 2026, 14:05:09 CET" in `zone`. */
export function formatDateTime(at: Date, zone: string): string {
  return formatter(zone, { dateStyle: 'medium', timeStyle: 'long' }, 'dt').format(at);
}

/** "Europe/Berlin (CET)" — the zone's IANA name and its abbreviation at `at`. */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  const part = formatter(zone, { timeZoneName: 'short' }, 'tzn')
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  return part && part !== zone ? `${zone} (${part})` : zone;
}

/** All IANA zones the runtime knows, for the zone picker. */
export function timeZones(): string[] {
  return typeof Intl.supportedValuesOf === 'function'
    ? Intl.supportedValuesOf('timeZone')
    : ['UTC'];
}

/** "2026-12-01 00:00:00 UTC": the instant in UTC, for stating both next to a zoned time. */
export function formatUtc(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "+1.4 s" / "−0.2 s": how late (or early) something started against its due time. */
export function formatDrift(due: Date, started: Date | null): string | null {
  if (!started) return null;
  const seconds = Math.round((started.getTime() - due.getTime()) / 100) / 10;
  return `${seconds >= 0 ? '+' : '−'}${Math.abs(seconds).toLocaleString('en')} s`;
}

/** "850 ms", "12.3 s", "4 min 5 s", "2 h 3 min": how long a step took. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
