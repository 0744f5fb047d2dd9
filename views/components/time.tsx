import { formatDateTime } from '../format.ts';

/** A timestamp in the viewer's zone; the UTC instant is in `datetime` and the tooltip. */
export function Time({ at, zone }: { at: Date | null; zone: string }) {
  if (!at) return <span class="muted">—</span>;
  return (
    <time datetime={at.toISOString()} title={at.toISOString()} data-relative>
      {formatDateTime(at, zone)}
    </time>
  );
}
