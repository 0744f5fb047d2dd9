import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';
import { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * Opaque keyset-pagination cursors: the sort key and id of the row a page ends at,
 * plus the direction to read (`after` for the next page, `before` for the previous one).
 */
export type Cursor = { key: string | number | null; id: string; dir: 'after' | 'before' };

const CursorShape = z.tuple([
  z.union([z.string(), z.number(), z.null()]),
  z.uuid(),
  z.enum(['after', 'before']),
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCursor(cursor: Cursor): string {
  return encodeBase64Url(
    encoder.encode(JSON.stringify([cursor.key, cursor.id, cursor.dir])).buffer,
  );
}

/** Parses a cursor from a query string; a tampered or stale one is a 400, not a 500. */
export function decodeCursor(text: string): Cursor {
  try {
    const [key, id, dir] = CursorShape.parse(JSON.parse(decoder.decode(decodeBase64Url(text))));
    return { key, id, dir };
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
