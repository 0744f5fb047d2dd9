import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../src/lib/cursor.ts';
import { AppError } from '../../src/lib/errors.ts';

describe('cursors', () => {
  it('round-trips key, id and direction', () => {
    const c = {
      key: '2026-11-22T10:00:00.123Z',
      id: '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11',
      dir: 'before' as const,
    };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });

  it('rejects tampered cursors with a 400', () => {
    for (const bad of [
      '',
      'not-base64!',
      encodeCursor({ key: 'x', id: 'not-a-uuid', dir: 'after' }),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(AppError);
    }
  });
});
