import { describe, expect, it } from 'vitest';
import { fireTimesBetween, parseSchedule } from '../../src/triggers/cron.ts';
import { DST_CASES } from '../helpers/dst-cases.ts';
import { bruteForceFires } from '../helpers/dst-oracle.ts';

describe('daylight-saving rules (docs/cron.md) against a brute-force Intl walk', () => {
  for (const c of DST_CASES) {
    it(c.name, () => {
      const from = new Date(c.from);
      const to = new Date(c.to);
      const oracle = bruteForceFires(c.matches, c.fixed, c.zone, from, to).map((d) =>
        d.toISOString(),
      );
      expect(oracle).toEqual(c.known);
      const parsed = parseSchedule(c.expression, c.zone);
      if (!parsed.ok) throw new Error(parsed.problem.message);
      const fires = fireTimesBetween(
        parsed.schedule,
        new Date(from.getTime() - 1),
        new Date(to.getTime() - 1),
        1000,
      );
      expect(fires.map((d) => d.toISOString())).toEqual(oracle);
    });
  }
});
