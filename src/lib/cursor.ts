import { type Column, type SQL, sql } from 'drizzle-orm';
import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { isStorableText } from './text.ts';

/**
 * Opaque keyset-pagination cursors: the sort key and id of the row a page ends at,
 * plus the direction to read (`after` for the next page, `before` for the previous one).
 */
export type Cursor = { key: string | number | null; id: string; dir: 'after' | 'before' };

/**
 * What a list's sort key must be, checked when decoding so a tampered key is a 400 here
 * rather than a failed cast in PostgreSQL: `date` an ISO-8601 UTC instant as
 * `Date.toISOString()` writes it, `text` a string, `integer` a 32-bit integer.
 */
export type CursorKeyKind = 'date' | 'text' | 'integer';

const INT4 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

// Every key is checked for what the database accepts whatever the list: strings without
// NUL or lone surrogates, numbers that are int4 (every integer sort column is one), so
// 1.5 or 1e308 never reach a cast.
const CursorShape = z.tuple([
  z.union([
    z.string().max(500).refine(isStorableText),
    z.number().int().min(INT4.min).max(INT4.max),
    z.null(),
  ]),
  z.uuid(),
  z.enum(['after', 'before']),
]);

const KEY_OF_KIND: Record<CursorKeyKind, z.ZodType> = {
  date: z.iso.datetime({ offset: false, precision: 3 }),
  text: z.string(),
  integer: z.number(),
};

const encoder = new TextEncoder();
// Fatal: a cursor that is not UTF-8 was not written by encodeCursor.
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCursor(cursor: Cursor): string {
  return encodeBase64Url(
    encoder.encode(JSON.stringify([cursor.key, cursor.id, cursor.dir])).buffer,
  );
}

/**
 * Parses a cursor from a query string. Throws {@link AppError} 400 `invalid-cursor` when it
 * is not one {@link encodeCursor} wrote (bad base64url, JSON or shape), or when `key` is
 * given and the sort key is not of that kind; never lets a tampered cursor reach SQL.
 */
export function decodeCursor(text: string, key?: CursorKeyKind): Cursor {
  try {
    const [k, id, dir] = CursorShape.parse(JSON.parse(decoder.decode(decodeBase64Url(text))));
    if (key) KEY_OF_KIND[key].parse(k);
    return { key: k, id, dir };
  } catch {
    throw new AppError(
      400,
      'invalid-cursor',
      'Invalid cursor',
      'The pagination cursor is not valid; start from the first page.',
    );
  }
}

/** A page of rows with cursors to the neighbouring pages (null at either end). */
export type Page<T> = { items: T[]; next: string | null; prev: string | null };

/**
 * One page from rows fetched in the read direction (`limit + 1` of them, the extra row only
 * saying there is more): the rows in display order, and cursors to the pages on either
 * side. Reading `before` a cursor, there is always a next page (where the cursor came
 * from); reading `after` one, always a previous page.
 */
export function keysetPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  cursor: Cursor | null,
  keyOf: (row: T) => Cursor['key'],
): Page<T> {
  const backwards = cursor?.dir === 'before';
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  if (backwards) items.reverse();
  const first = items[0];
  const last = items.at(-1);
  const hasNext = backwards || more;
  const hasPrev = backwards ? more : cursor !== null;
  return {
    items,
    next: hasNext && last ? encodeCursor({ key: keyOf(last), id: last.id, dir: 'after' }) : null,
    prev:
      hasPrev && first ? encodeCursor({ key: keyOf(first), id: first.id, dir: 'before' }) : null,
  };
}

/**
 * The keyset condition for the rows past a cursor on (sort column, id): a row-value
 * comparison, `>` reading ascending and `<` descending. `dateKey` casts the cursor's key
 * to `timestamptz` (it was checked as an ISO instant by {@link decodeCursor}).
 */
export function seekPast(input: {
  column: Column | SQL;
  id: Column;
  cursor: Cursor;
  ascending: boolean;
  dateKey: boolean;
}): SQL {
  const { column, id, cursor } = input;
  const key = input.dateKey ? sql`${cursor.key}::timestamptz` : sql`${cursor.key}`;
  return input.ascending
    ? sql`(${column}, ${id}) > (${key}, ${cursor.id}::uuid)`
    : sql`(${column}, ${id}) < (${key}, ${cursor.id}::uuid)`;
}
