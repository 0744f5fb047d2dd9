const TONE: Record<string, string> = {
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
  cancelled: 'muted',
  skipped: 'muted',
};

/** A status word in a coloured pill; the tone comes from the status name. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${TONE[status] ?? 'muted'}`}>{status}</span>;
}
