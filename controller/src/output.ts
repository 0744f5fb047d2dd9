// Output pages by UTF-8 byte offset (getCliRunOutput): at most 64 KiB from `after`, read
// from the run's append-only log. A page never splits a character: while more can come it
// ends before an incomplete trailing sequence (and at the last line end when it is full).
import { closeSync, openSync, readSync } from 'node:fs';

/** The contract's page size: "At most 65,536 bytes come back per request." */
export const PAGE_BYTES = 65_536;

export type Page = { chunks: { offset: number; text: string }[]; nextOffset: number };

/**
 * The page of `path` (holding `size` bytes now) from byte `after` (past the end: the end).
 * `final`: no byte can follow, so a trailing sequence that never completes is sent as is
 * (decoded as U+FFFD) rather than held back forever. Offsets always count the log's bytes.
 */
export function readPage(path: string, size: number, after: number, final: boolean): Page {
  const from = Math.min(after, size);
  const length = Math.min(PAGE_BYTES, size - from);
  if (length <= 0) return { chunks: [], nextOffset: from };
  const bytes = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  let read = 0;
  try {
    while (read < length) {
      const n = readSync(fd, bytes, read, length - read, from + read);
      if (n === 0) break;
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  const reachesEnd = from + read >= size;
  let end = completeUpTo(bytes, read);
  if (read === PAGE_BYTES) {
    const newline = bytes.lastIndexOf(0x0a, end - 1);
    if (newline >= 0) end = newline + 1;
  }
  // Nothing can complete what is left: it goes out as it is.
  if (final && reachesEnd) end = read;
  if (end === 0) return { chunks: [], nextOffset: from };
  return {
    chunks: [{ offset: from, text: bytes.subarray(0, end).toString('utf8') }],
    nextOffset: from + end,
  };
}

/** The length of `bytes[0, n)` without an incomplete UTF-8 sequence at its end. */
function completeUpTo(bytes: Buffer, n: number): number {
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const b = bytes[i] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > n ? i : n;
  }
  return n;
}
