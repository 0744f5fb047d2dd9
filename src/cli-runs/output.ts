import { OUTPUT_TAIL_BYTES } from './model.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `tail + more`, keeping only the last `limit` bytes of UTF-8 (default 64 KiB). The cut
 * moves forward to the next character boundary (never inside a multi-byte sequence), so
 * the kept text is valid and at most `limit` bytes.
 */
export function appendTail(tail: string, more: string, limit = OUTPUT_TAIL_BYTES): string {
  if (!more) return tail;
  const joined = tail + more;
  const bytes = encoder.encode(joined);
  if (bytes.length <= limit) return joined;
  let start = bytes.length - limit;
  // UTF-8 continuation bytes are 10xxxxxx.
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return decoder.decode(bytes.subarray(start));
}
