import { Cron } from 'croner';

/**
 * Cron expressions in an IANA time zone: validation, next fire times and the daylight-saving
 * rules of docs/cron.md. The expression is parsed and matched by croner (ADR 0010), never by
 * hand; this module only picks croner's options and words its errors for the API.
 *
 * The options that make croner follow docs/cron.md:
 * - `mode: '5-part'`: minute hour day-of-month month day-of-week (no seconds, no year).
 * - `fixedTimeRule: 'no-wildcard'`: an expression is fixed-time when neither its minute nor its
 *   hour field has `*` or a step (`/`), so plain numbers, lists and ranges are fixed-time; such
 *   an expression fires once at the first occurrence of a repeated time and, when its time
 *   falls in a gap, once at the first instant after the gap. Every other expression matches
 *   wall-clock time literally (both occurrences of a repeated hour fire, nothing inside a gap).
 * - `domAndDow: false`: when both day-of-month and day-of-week are restricted, a day matching
 *   either fires (POSIX crontab, Vixie cron).
 */
export type Schedule = {
  /** The expression as stored: trimmed, fields separated by single spaces. */
  expression: string;
  /** The zone's IANA name as {@link canonicalTimeZone} spells it. */
  timeZone: string;
  cron: Cron;
};

/** Why an expression or zone cannot be used: the API field it concerns and a sentence. */
export type ScheduleProblem = { field: 'cronExpression' | 'timeZone'; message: string };

export const MAX_EXPRESSION_LENGTH = 120;

let byLowerCase: Map<string, string> | null = null;

/**
 * `zone` spelt as the platform lists it (case corrected: `europe/berlin` → `Europe/Berlin`),
 * or as given when the platform knows it only as an alias (`Asia/Kolkata`, which older ICU
 * lists as `Asia/Calcutta`); null when the platform's time-zone data has no such zone.
 */
export function canonicalTimeZone(zone: string): string | null {
  // Offsets ("+05:30") are not zones: a schedule follows a place's rules, DST included.
  if (!zone || zone.length > 64 || /^[+-]/.test(zone)) return null;
  byLowerCase ??= new Map(allTimeZones().map((z) => [z.toLowerCase(), z]));
  const listed = byLowerCase.get(zone.toLowerCase());
  if (listed) return listed;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

/** Every IANA zone the platform knows (for pickers), UTC included. */
export function allTimeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

export type ParsedSchedule =
  | { ok: true; schedule: Schedule }
  | { ok: false; problem: ScheduleProblem };

// Parsing and validating costs about a millisecond (croner builds the pattern and looks for
// a future match through Intl); thousands of agents share a few expressions, so each
// (expression, zone) is parsed once per process. Bounded: cleared when it grows past 5,000.
const parsedCache = new Map<string, ParsedSchedule>();
const CACHE_LIMIT = 5_000;

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * Validates an expression and a zone together. The expression is 5 whitespace-separated
 * fields of at most 120 characters, which croner must accept and which must match at least
 * one future time; the zone must be one the platform's time-zone data has.
 */
export function parseSchedule(expression: string, timeZone: string): ParsedSchedule {
  return remember(parsedCache, `${expression}\u0000${timeZone}`, () =>
    parseUncached(expression, timeZone),
  );
}

function parseUncached(expression: string, timeZone: string): ParsedSchedule {
  const zone = canonicalTimeZone(timeZone);
  if (!zone)
    return {
      ok: false,
      problem: {
        field: 'timeZone',
        message: `"${timeZone.slice(0, 64)}" is not an IANA time zone (e.g. Europe/Berlin)`,
      },
    };
  const text = expression.trim();
  const bad = (message: string) =>
    ({ ok: false, problem: { field: 'cronExpression', message } }) as const;
  if (text.length > MAX_EXPRESSION_LENGTH)
    return bad(`${text.length} characters given; at most ${MAX_EXPRESSION_LENGTH}`);
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length !== 5)
    return bad(
      `${fields.length} field${fields.length === 1 ? '' : 's'} given; expected 5 (minute hour day-of-month month day-of-week)`,
    );
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), {
      timezone: zone,
      mode: '5-part',
      fixedTimeRule: 'no-wildcard',
      domAndDow: false,
    });
  } catch (err) {
    return bad(croneMessage(err));
  }
  if (!cron.nextRun(new Date()))
    return bad('the expression matches no date (e.g. day 31 of a month that has 30)');
  return { ok: true, schedule: { expression: fields.join(' '), timeZone: zone, cron } };
}

/** croner's message without its class prefix, starting lower-case (it follows a field name). */
function croneMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const bare = text.replace(/^Cron\w*:\s*/, '');
  return bare.charAt(0).toLowerCase() + bare.slice(1);
}

/** The first fire time strictly after `after`, or null when there is none. */
export function nextFireAfter(schedule: Schedule, after: Date): Date | null {
  return schedule.cron.nextRun(after);
}

/** The next `count` fire times strictly after `after`, in order. */
export function nextFireTimes(schedule: Schedule, after: Date, count: number): Date[] {
  return schedule.cron.nextRuns(count, after);
}

// The next few fire times after an instant, per schedule: when 10,000 agents share a fire
// time, their claim computes them once.
const afterCache = new Map<string, Date[]>();
const AHEAD = 4;

/** The next {@link AHEAD} fire times strictly after `after` (fewer when the schedule ends). */
function firesAfter(schedule: Schedule, after: Date): Date[] {
  return remember(
    afterCache,
    `${schedule.expression}\u0000${schedule.timeZone}\u0000${after.getTime()}`,
    () => schedule.cron.nextRuns(AHEAD, after),
  );
}

/**
 * Fire times in `(after, until]`, in order (at most `limit`), and the first one after `until`
 * (null when the schedule matches nothing more).
 */
export function fireTimesUntil(
  schedule: Schedule,
  after: Date,
  until: Date,
  limit: number,
): { due: Date[]; next: Date | null } {
  const due: Date[] = [];
  let cursor = after;
  for (;;) {
    const ahead = firesAfter(schedule, cursor);
    for (const t of ahead) {
      if (t > until) return { due, next: t };
      if (due.length < limit) due.push(t);
      cursor = t;
    }
    if (ahead.length < AHEAD) return { due, next: null };
  }
}

/** Fire times in `(after, until]`, in order; at most `limit` of them. */
export function fireTimesBetween(
  schedule: Schedule,
  after: Date,
  until: Date,
  limit: number,
): Date[] {
  return fireTimesUntil(schedule, after, until, limit).due;
}
