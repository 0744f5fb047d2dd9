export type BadgeTone = 'ok' | 'warn' | 'danger' | 'info' | 'muted';

const TONE: Record<string, BadgeTone> = {
  running: 'ok',
  available: 'ok',
  active: 'ok',
  stopped: 'muted',
  provisioning: 'info',
  restarting: 'info',
  recovering: 'warn',
  destroying: 'warn',
  destroyed: 'muted',
  failed: 'danger',
  disabled: 'muted',
  revoked: 'muted',
  pending: 'info',
  succeeded: 'ok',
  started: 'ok',
  delivered: 'ok',
  starting: 'info',
  stopping: 'info',
  replacing: 'info',
  updating: 'info',
  created: 'info',
  suspended: 'muted',
  launch_failed: 'danger',
  unreachable: 'danger',
  scheduled: 'info',
  completed: 'ok',
  applied: 'ok',
  halted: 'warn',
  paused: 'warn',
  cancelling: 'warn',
  cancelled: 'muted',
  skipped: 'muted',
};

/** The tone our own status names are shown in (charts use it too). */
export const toneOf = (status: string): BadgeTone => TONE[status] ?? 'muted';

/**
 * A status word in a coloured pill, shown as given. The tone comes from our own status
 * names, or from `tone` for another system's words (QStash's message states).
 */
export function StatusBadge({ status, tone }: { status: string; tone?: BadgeTone }) {
  return <span class={`badge badge-${tone ?? TONE[status] ?? 'muted'}`}>{status}</span>;
}
