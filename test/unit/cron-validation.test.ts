import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, parseSchedule } from '../../src/triggers/cron.ts';

const problem = (expression: string, zone = 'UTC') => {
  const r = parseSchedule(expression, zone);
  return r.ok ? null : r.problem;
};

describe('parseSchedule', () => {
  it('counts fields and names the expected five', () => {
    expect(problem('0 0 9 * * *')).toEqual({
      field: 'cronExpression',
      message: '6 fields given; expected 5 (minute hour day-of-month month day-of-week)',
    });
    expect(problem('@daily')?.message).toMatch(/^1 field given; expected 5/);
    expect(problem('   ')?.message).toMatch(/^0 fields given/);
  });

  it('passes on croner’s reason for a bad field', () => {
    expect(problem('61 * * * *')).toEqual({
      field: 'cronExpression',
      message: 'invalid value for minute: 61',
    });
    expect(problem('0 9 * * mon-xyz')?.field).toBe('cronExpression');
  });

  it('refuses an expression that matches no date and one over 120 characters', () => {
    expect(problem('0 0 31 2 *')?.message).toMatch(/matches no date/);
    expect(problem(`0 ${'1,'.repeat(60)}2 * * *`)?.message).toMatch(/at most 120/);
  });

  it('checks the zone first and names it', () => {
    expect(problem('0 9 * * *', 'Mars/Olympus')).toEqual({
      field: 'timeZone',
      message: '"Mars/Olympus" is not an IANA time zone (e.g. Europe/Berlin)',
    });
    expect(problem('0 9 * * *', '+05:30')?.field).toBe('timeZone');
  });

  it('stores a normalised expression and the zone as the platform spells it', () => {
    const r = parseSchedule('  0   9 * *   1-5 ', 'america/new_york');
    expect(r.ok && r.schedule.expression).toBe('0 9 * * 1-5');
    expect(r.ok && r.schedule.timeZone).toBe('America/New_York');
    // An alias the platform knows but does not list keeps the spelling it was given.
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
  });

  it('fires on a day matching either day field (POSIX), not both', () => {
    const r = parseSchedule('0 9 1 * 1', 'UTC');
    if (!r.ok) throw new Error(r.problem.message);
    // 2026-03-01 is a Sunday (day 1), 2026-03-02 a Monday.
    expect(
      r.schedule.cron.nextRuns(2, new Date('2026-02-28T12:00:00Z')).map((d) => d.toISOString()),
    ).toEqual(['2026-03-01T09:00:00.000Z', '2026-03-02T09:00:00.000Z']);
  });
});
