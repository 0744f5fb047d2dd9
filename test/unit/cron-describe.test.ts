import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/triggers/cron.ts';
import { describeExpression } from '../../src/triggers/describe.ts';

/** The next `n` fire times of an expression in UTC from `from`, as croner computes them. */
function fires(expression: string, from: string, n: number): Date[] {
  const parsed = parseSchedule(expression, 'UTC');
  if (!parsed.ok) throw new Error(parsed.problem.message);
  return parsed.schedule.cron.nextRuns(n, new Date(from));
}

describe('cron expressions in words say what fires', () => {
  it('keeps cronstrue where it is right', () => {
    expect(describeExpression('0 9 * * 1-5')).toBe('At 09:00, Monday through Friday');
    expect(describeExpression('*/15 * * * *')).toBe('Every 15 minutes');
    expect(describeExpression('not cron')).toBeNull();
  });

  it('joins a restricted day of month and day of week with "or", as they fire', () => {
    expect(describeExpression('0 0 1,15 * 5')).toBe(
      'At 00:00, on day 1 and 15 of the month, or on Friday',
    );
    expect(describeExpression('0 9 1 * 1-5')).toBe(
      'At 09:00, on day 1 of the month, or Monday through Friday',
    );
    expect(describeExpression('0 0 1 */2 1')).toBe(
      'At 00:00, on day 1 of the month, or on Monday, every 2 months',
    );
    // And they do fire on either: Friday 2026-12-04 is neither the 1st nor the 15th.
    expect(fires('0 0 1,15 * 5', '2026-12-02T00:00:00Z', 3).map((d) => d.toISOString())).toEqual([
      '2026-12-04T00:00:00.000Z',
      '2026-12-11T00:00:00.000Z',
      '2026-12-15T00:00:00.000Z',
    ]);
  });

  it('says where a step that does not divide the hour or the day restarts', () => {
    expect(describeExpression('*/7 * * * *')).toBe(
      'Every 7 minutes (restarting at :00 every hour, so the gap across it is shorter)',
    );
    expect(describeExpression('5-59/7 * * * *')).toContain('restarting at :05 every hour');
    expect(describeExpression('0 */5 * * *')).toContain('restarting at 00:00 every day');
    // :56 then :00: four minutes, not seven.
    expect(fires('*/7 * * * *', '2026-12-08T09:55:00Z', 2).map((d) => d.toISOString())).toEqual([
      '2026-12-08T09:56:00.000Z',
      '2026-12-08T10:00:00.000Z',
    ]);
  });
});
