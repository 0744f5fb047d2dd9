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
