import { randomAlphanumeric } from '../../lib/crypto.ts';

let seq = 0;
/** DLQ ids look like QStash's: `<unix ms>-<sequence>`, ordered by time. */
export function newDlqId(now: Date): string {
  seq = (seq + 1) % 1_000_000;
  return `${String(now.getTime()).padStart(13, '0')}-${seq}-${randomAlphanumeric(4)}`;
}

export const newScheduleId = () => `scd_${randomAlphanumeric(24)}`;
