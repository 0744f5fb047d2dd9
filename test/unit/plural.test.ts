import { describe, expect, it } from 'vitest';
import { count, plural } from '../../views/plural.ts';

describe('plural', () => {
  it('picks the CLDR form for the count and formats the number', () => {
    const forms = { one: '# instance matches', other: '# instances match' };
    expect(plural(1, forms)).toBe('1 instance matches');
    expect(plural(0, forms)).toBe('0 instances match');
    expect(plural(1204, forms)).toBe('1,204 instances match');
  });

  it('counts a noun with its regular or given plural', () => {
    expect(count(1, 'minute')).toBe('1 minute');
    expect(count(30, 'minute')).toBe('30 minutes');
    expect(count(2, 'more', 'more')).toBe('2 more');
  });
});
