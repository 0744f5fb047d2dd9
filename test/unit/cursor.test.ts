import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, keysetPage } from '../../src/lib/cursor.ts';
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

  it('refuses keys the database could not take, whatever the list: NUL, non-int4 numbers', () => {
    const id = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';
    for (const key of ['a\u0000b', '\udc00', 1.5, 1e308, 2 ** 31, -(2 ** 31) - 1])
      expect(() => decodeCursor(encodeCursor({ key, id, dir: 'after' })), String(key)).toThrow(
        AppError,
      );
    expect(decodeCursor(encodeCursor({ key: 2 ** 31 - 1, id, dir: 'after' })).key).toBe(
      2 ** 31 - 1,
    );
  });

  it('checks the key against the kind the sort expects', () => {
    const id = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';
    const c = (key: string | number) => encodeCursor({ key, id, dir: 'after' });
    const at = new Date('2026-11-22T10:00:00Z').toISOString();
    expect(decodeCursor(c(at), 'date').key).toBe(at);
    for (const bad of ['yesterday', '1', '2026-11-22', '2026-02-30T00:00:00.000Z', 7])
      expect(() => decodeCursor(c(bad), 'date'), String(bad)).toThrow(AppError);
    expect(() => decodeCursor(c(7), 'text')).toThrow(AppError);
    expect(() => decodeCursor(c('7'), 'integer')).toThrow(AppError);
    expect(decodeCursor(c(7), 'integer').key).toBe(7);
  });
});

describe('keysetPage', () => {
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `00000000-0000-4000-8000-00000000000${i}`, k: i }));
  const keyOf = (r: { k: number }) => r.k;

  it('reads forward: the extra row means a next page; a cursor means a previous one', () => {
    const first = keysetPage(rows(4), 3, null, keyOf);
    expect(first.items.map((r) => r.k)).toEqual([0, 1, 2]);
    expect(decodeCursor(first.next ?? '')).toMatchObject({ key: 2, dir: 'after' });
    expect(first.prev).toBeNull();
    const last = keysetPage(rows(2), 3, decodeCursor(first.next ?? ''), keyOf);
    expect(last.next).toBeNull();
    expect(decodeCursor(last.prev ?? '')).toMatchObject({ key: 0, dir: 'before' });
  });

  it('reads backward: rows come nearest-first and are shown in order; there is always a next page', () => {
    const before = decodeCursor(
      keysetPage(rows(1), 3, { key: 9, id: rows(1)[0]?.id ?? '', dir: 'after' }, keyOf).prev ?? '',
    );
    const page = keysetPage(rows(3).reverse(), 3, before, keyOf);
    expect(page.items.map((r) => r.k)).toEqual([0, 1, 2]);
    expect(page.prev).toBeNull();
    expect(decodeCursor(page.next ?? '')).toMatchObject({ key: 2, dir: 'after' });
  });
});
