/**
 * An independent oracle for docs/cron.md's daylight-saving rules: a brute-force walk over
 * every UTC minute that reads the wall-clock time in the zone from the platform's time-zone
 * data (`Intl.DateTimeFormat`), with no cron library. Each case states what its expression
 * matches as a predicate over wall-clock fields, so nothing here parses cron.
 */
export type Wall = {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
};

const formats = new Map<string, Intl.DateTimeFormat>();

export function wallClock(at: number, zone: string): Wall {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formats.set(zone, f);
  }
  const part = (type: string) =>
    Number(f.formatToParts(at).find((p) => p.type === type)?.value ?? Number.NaN);
  const year = part('year');
  const month = part('month');
  const day = part('day');
  return {
    year,
    month,
    day,
    hour: part('hour'),
    minute: part('minute'),
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/** Wall-clock time as minutes since the epoch of a zone-less calendar (for order and gaps). */
const floating = (w: Wall) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) / 60_000;
const fromFloating = (m: number): Wall => {
  const d = new Date(m * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  };
};

const MINUTE = 60_000;
/** Longer than any repeated stretch of wall-clock time (a 1 h or 30 min fall-back). */
const LOOKBACK = 3 * 3_600_000;

/**
 * Fire times in `[from, to)` under docs/cron.md: a fixed-time expression fires at the first
 * instant showing a matching wall-clock time it has not shown before (so once on a
 * fall-back day), and at the first instant after a gap that skipped a matching time; any
 * other expression fires at every instant whose wall-clock time matches.
 */
export function bruteForceFires(
  matches: (w: Wall) => boolean,
  fixed: boolean,
  zone: string,
  from: Date,
  to: Date,
): Date[] {
  const out: Date[] = [];
  const seen = new Set<number>();
  let previous: number | null = null;
  for (let t = from.getTime() - LOOKBACK; t < to.getTime(); t += MINUTE) {
    const wall = wallClock(t, zone);
    const key = floating(wall);
    let fire = false;
    if (fixed) {
      if (matches(wall) && !seen.has(key)) fire = true;
      if (previous !== null && key - previous > 1)
        for (let m = previous + 1; m < key; m++) if (matches(fromFloating(m))) fire = true;
    } else if (matches(wall)) fire = true;
    seen.add(key);
    previous = key;
    if (fire && t >= from.getTime()) out.push(new Date(t));
  }
  return out;
}
