import { TZDate } from '@date-fns/tz';

// The console's run-time field is an HTML `datetime-local` value: wall-clock time with no
// zone (WHATWG HTML, "local date and time string"). These read and write it in the admin's
// IANA zone.

const pad = (n: number) => String(n).padStart(2, '0');

/** The wall-clock time of `at` in `zone` as a `datetime-local` value ("2026-12-01T09:00"). */
export function zonedInputValue(at: Date, zone: string): string {
  const z = new TZDate(at.getTime(), zone);
  return `${z.getFullYear()}-${pad(z.getMonth() + 1)}-${pad(z.getDate())}T${pad(z.getHours())}:${pad(z.getMinutes())}`;
}

/**
 * The UTC instant of a `datetime-local` value read as wall-clock time in `zone` (@date-fns/tz
 * resolves the offset). Null when the text is malformed, names no real date, or names a
 * wall-clock time the zone skips (the hour lost when clocks go forward). A time the zone
 * passes twice (the hour repeated when clocks go back) resolves to its second occurrence,
 * in standard time, as @date-fns/tz does; the confirmation step shows the UTC instant.
 */
export function zonedInputToInstant(value: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const z = new TZDate(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0, zone);
  const same =
    z.getFullYear() === y &&
    z.getMonth() + 1 === mo &&
    z.getDate() === d &&
    z.getHours() === h &&
    z.getMinutes() === mi;
  return same && !Number.isNaN(z.getTime()) ? new Date(z.getTime()) : null;
}
