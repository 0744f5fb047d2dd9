import { TZDate } from '@date-fns/tz';

/**
 * An instant as the API shows a fire time: UTC (`at`), the wall-clock time in the zone
 * (`local`, ISO-8601 without offset) and the zone's UTC offset then (`offset`, `±HH:MM`),
 * read from the platform's time-zone data through @date-fns/tz.
 */
export type ZonedInstant = { at: string; local: string; offset: string };

export function zonedInstant(at: Date, timeZone: string): ZonedInstant {
  // TZDate's ISO string is "2026-03-08T03:00:00.000-04:00".
  const iso = new TZDate(at.getTime(), timeZone).toISOString();
  return { at: at.toISOString(), local: iso.slice(0, 19), offset: iso.slice(23) };
}
