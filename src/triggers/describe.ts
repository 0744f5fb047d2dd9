import cronstrue from 'cronstrue';

const describe = (expression: string) =>
  cronstrue.toString(expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });

const restricted = (field: string) => field !== '*' && field !== '?';

/**
 * A step that does not divide its cycle (`*\/7` minutes: :56, then :00) restarts at each
 * cycle, so "every 7 minutes" is not quite true: say where it restarts.
 */
function unevenStep(
  field: string,
  cycle: number,
  at: (start: number) => string,
  unit: string,
): string | null {
  const match = field.match(/^(?:\*|(\d+)-\d+)\/(\d+)$/);
  const step = Number(match?.[2]);
  return match && step > 1 && cycle % step !== 0
    ? `restarting at ${at(Number(match[1] ?? 0))} every ${unit}, so the gap across it is shorter`
    : null;
}

const two = (n: number) => String(n).padStart(2, '0');

/** "P, A, S" and "P, B, S" → "P, A, or B, S" (cronstrue joins its parts with ", "). */
function either(a: string, b: string): string {
  let head = 0;
  while (head < a.length && a[head] === b[head]) head++;
  head = a.lastIndexOf(', ', head) + 2;
  let tail = 0;
  while (tail < a.length - head && a.at(-1 - tail) === b.at(-1 - tail)) tail++;
  const end = a.indexOf(', ', a.length - tail);
  const suffix = end >= head && end >= 0 ? a.slice(end) : '';
  const mid = (s: string) => s.slice(head, s.length - suffix.length);
  return `${a.slice(0, head)}${mid(a)}, or ${mid(b).replace(/^only /, '')}${suffix}`;
}

/**
 * An expression in words ("At 09:00, Monday through Friday") by cronstrue, or null when
 * cronstrue cannot read it (the editor shows the validation error instead). Two cases where
 * cronstrue's words and the firing (docs/cron.md) part ways are reworded:
 * - both day of month and day of week restricted: cron fires on a day matching **either**
 *   (POSIX crontab, Vixie cron), which cronstrue words as "and"; described here as the two
 *   halves joined by "or";
 * - a minute or hour step that does not divide the hour or the day: said to restart there.
 */
export function describeExpression(expression: string): string | null {
  try {
    const fields = expression.trim().split(/\s+/);
    const [minute = '', hour = '', dom = '', month = '', dow = ''] = fields;
    let words = describe(expression);
    if (fields.length === 5 && restricted(dom) && restricted(dow)) {
      words = either(
        describe(`${minute} ${hour} ${dom} ${month} *`),
        describe(`${minute} ${hour} * ${month} ${dow}`),
      );
    }
    const notes = [
      unevenStep(minute, 60, (m) => `:${two(m)}`, 'hour'),
      unevenStep(hour, 24, (h) => `${two(h)}:00`, 'day'),
    ].filter((n): n is string => n !== null);
    return notes.length ? `${words} (${notes.join('; ')})` : words;
  } catch {
    return null;
  }
}

/** The editor's presets: a label and its expression. */
export const PRESETS = [
  { label: 'Every 5 minutes', expression: '*/5 * * * *' },
  { label: 'Hourly', expression: '0 * * * *' },
  { label: 'Daily at 9:00', expression: '0 9 * * *' },
  { label: 'Weekdays at 9:00', expression: '0 9 * * 1-5' },
  { label: 'Weekly on Monday', expression: '0 9 * * 1' },
] as const;
