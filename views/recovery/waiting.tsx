import { Time } from '../components/time.tsx';
import type { RecoveryView } from './steps.tsx';

/** What a waiting recovery waits for, in words (the values are Fly's terms). */
export const WAIT_LABELS: Record<string, string> = {
  host_unreachable: 'Waiting for the host',
  insufficient_capacity: 'Waiting for capacity',
};

/**
 * A recovery that waits (its old machine and volume kept) or that reconcile will resume:
 * what for, since when, the reason and when it looks again. Nothing otherwise.
 */
export function WaitingNote({ r, zone }: { r: RecoveryView; zone: string }) {
  const active = r.status === 'pending' || r.status === 'running';
  if (active && r.waitingFor)
    return (
      <div class="flash flash-warn" role="status" data-waiting={r.waitingFor}>
        <strong>{WAIT_LABELS[r.waitingFor] ?? r.waitingFor}</strong> since{' '}
        <Time at={r.waitingSince} zone={zone} /> · {r.waits} {r.waits === 1 ? 'look' : 'looks'},
        next <Time at={r.nextAttemptAt} zone={zone} />. Nothing is destroyed while it waits.
        {r.lastError ? <div class="small">{r.lastError}</div> : null}
      </div>
    );
  if (r.status === 'failed' && r.retryAt)
    return (
      <p class="small muted" data-retry-at={r.retryAt.toISOString()}>
        Reconcile retries it at <Time at={r.retryAt} zone={zone} />
        {r.autoRetries ? ` (retried automatically ${r.autoRetries} times so far)` : ''}.
      </p>
    );
  return null;
}

/**
 * A recovery's `lastError` as what it is: on a succeeded recovery it holds the last step's
 * note ("started in place", "old volume … not deleted: …"), which is no error.
 */
export function errorOrNote(r: { status: string; lastError: string | null }): {
  error: string | null;
  note: string | null;
} {
  return r.status === 'succeeded'
    ? { error: null, note: r.lastError }
    : { error: r.lastError, note: null };
}
