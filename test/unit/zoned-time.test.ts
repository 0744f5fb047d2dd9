import { describe, expect, it } from 'vitest';
import { zonedInputToInstant, zonedInputValue } from '../../src/lib/zoned-time.ts';
import { formatDrift } from '../../views/format.ts';

describe('wall-clock times in a zone (datetime-local values)', () => {
  it('reads a wall-clock time in the zone as its UTC instant', () => {
    expect(zonedInputToInstant('2026-12-01T09:00', 'Asia/Tokyo')?.toISOString()).toBe(
      '2026-12-01T00:00:00.000Z',
    );
    expect(zonedInputToInstant('2026-07-01T09:30', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-07-01T07:30:00.000Z',
    );
    expect(zonedInputToInstant('2026-01-15T09:30:15', 'America/New_York')?.toISOString()).toBe(
      '2026-01-15T14:30:15.000Z',
    );
  });

  it('refuses malformed text, impossible dates and the hour skipped when clocks go forward', () => {
    expect(zonedInputToInstant('tomorrow', 'UTC')).toBeNull();
    expect(zonedInputToInstant('2026-02-30T09:00', 'UTC')).toBeNull();
    expect(zonedInputToInstant('2026-03-29T02:30', 'Europe/Berlin')).toBeNull();
  });

  it('reads a wall-clock time the zone passes twice as its second occurrence (standard time)', () => {
    // 25 Oct 2026, Berlin: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    expect(zonedInputToInstant('2026-10-25T02:30', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-10-25T01:30:00.000Z',
    );
  });

  it('writes an instant as wall-clock time in the zone, round-tripping', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    expect(zonedInputValue(at, 'Asia/Tokyo')).toBe('2026-12-01T09:00');
    expect(zonedInputValue(at, 'America/Los_Angeles')).toBe('2026-11-30T16:00');
    expect(zonedInputToInstant(zonedInputValue(at, 'Asia/Kathmandu'), 'Asia/Kathmandu')).toEqual(
      at,
    );
  });

  it('states drift in seconds, signed', () => {
    const due = new Date('2026-12-01T00:00:00Z');
    expect(formatDrift(due, null)).toBeNull();
    expect(formatDrift(due, new Date('2026-12-01T00:00:01.440Z'))).toBe('+1.4 s');
    expect(formatDrift(due, new Date('2026-11-30T23:59:59.800Z'))).toBe('−0.2 s');
  });
});
