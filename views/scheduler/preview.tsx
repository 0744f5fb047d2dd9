import type { Child } from 'hono/jsx';
import { formatDateTime, formatUtc, zoneLabel } from '../format.ts';
import { count, plural } from '../plural.ts';
import { EXCLUSION_LABEL, instancesWord } from './words.ts';

export type Exclusions = {
  destroyed: string[];
  stopped: string[];
  pinned: string[];
  alreadyOnTarget: string[];
  alreadyScheduled: string[];
  notFound: string[];
};

export type PreviewView = {
  eligible: number;
  exclusions: Exclusions;
  stages: { index: number; size: number; scheduledAt: Date }[];
  runAt: Date;
  /** Eligible instances pinned to another version whose pin moves to the target. */
  pinsOverridden: number;
  /** Eligible instances busy right now (retried at claim time for up to 10 minutes). */
  busy: string[];
};

/** The planned stages: size and time in the viewer's zone (and in UTC when asked). */
export function PlannedStages(p: { stages: PreviewView['stages']; zone: string; utc?: boolean }) {
  return (
    <div class="table-wrap">
      <table class="stages-plan">
        <thead>
          <tr>
            <th>Stage</th>
            <th>Instances</th>
            <th>Time in {zoneLabel(p.zone, p.stages[0]?.scheduledAt)}</th>
            {p.utc ? <th>Time (UTC)</th> : null}
          </tr>
        </thead>
        <tbody>
          {p.stages.map((s) => (
            <tr>
              <td>{s.index + 1}</td>
              <td>{s.size.toLocaleString('en')}</td>
              <td>
                <time datetime={s.scheduledAt.toISOString()}>
                  {formatDateTime(s.scheduledAt, p.zone)}
                </time>
              </td>
              {p.utc ? <td>{formatUtc(s.scheduledAt)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Excluded instances by reason: the count, and the instances behind a disclosure. */
export function ExclusionList(p: { exclusions: Exclusions; names: Map<string, string> }) {
  const rows = (Object.keys(EXCLUSION_LABEL) as (keyof Exclusions)[]).filter(
    (k) => p.exclusions[k].length > 0,
  );
  if (!rows.length) return <p class="muted small">Nothing excluded.</p>;
  return (
    <ul class="exclusions">
      {rows.map((k) => {
        const ids = p.exclusions[k];
        return (
          <li data-reason={k}>
            <details>
              <summary>
                {EXCLUSION_LABEL[k]}: <strong>{ids.length.toLocaleString('en')}</strong>
              </summary>
              <ul class="small">
                {ids.slice(0, 50).map((id) => (
                  <li>
                    {p.names.has(id) ? (
                      <a href={`/admin/instances/${id}`}>{p.names.get(id)}</a>
                    ) : (
                      <code>{id}</code>
                    )}
                  </li>
                ))}
                {ids.length > 50 ? (
                  <li class="muted">and {count(ids.length - 50, 'more', 'more')}</li>
                ) : null}
              </ul>
            </details>
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The live preview beside the scheduler form (an htmx fragment): how many instances are
 * eligible, what is left out and why, and when each stage runs. Bad input shows its
 * message here instead of an error page.
 */
export function PreviewPanel(p: {
  preview: PreviewView | null;
  error: string | null;
  now: boolean;
  zone: string;
  names: Map<string, string>;
  skipAlreadyScheduled: boolean;
  /** The rendered notice (NoticePreviewPanel), when there is a preview. */
  notice?: Child;
}) {
  if (p.error)
    return (
      <div class="flash flash-warn" role="status" data-preview="invalid">
        {p.error}
      </div>
    );
  const v = p.preview;
  if (!v) return <p class="muted">Choose instances to see what would be scheduled.</p>;
  const conflicts = v.exclusions.alreadyScheduled.length;
  return (
    <div data-preview="ok">
      <h2>
        Preview: <span data-eligible={v.eligible}>{instancesWord(v.eligible)} eligible</span>
      </h2>
      {conflicts && !p.skipAlreadyScheduled ? (
        <div class="flash flash-warn" role="status">
          {plural(conflicts, {
            one: '# instance already has a pending action',
            other: '# instances already have a pending action',
          })}
          : scheduling is refused unless you tick "Skip instances that already have a pending
          action".
        </div>
      ) : null}
      {v.pinsOverridden ? (
        <p>
          <strong>{instancesWord(v.pinsOverridden)}</strong>{' '}
          {plural(v.pinsOverridden, {
            one: 'is pinned to another version: its pin moves',
            other: 'are pinned to another version: their pins move',
          })}{' '}
          to the target.
        </p>
      ) : null}
      {v.busy.length ? (
        <p data-busy={v.busy.length}>
          <strong>{instancesWord(v.busy.length)}</strong> are busy right now (provisioning,
          restarting, recovering or being destroyed): each is tried again when its turn comes, for
          up to 10 minutes, then fails.
        </p>
      ) : null}
      <ExclusionList exclusions={v.exclusions} names={p.names} />
      {v.stages.length ? (
        <>
          <p class="small">
            {p.now ? 'Starts as soon as you confirm. ' : ''}Times in {zoneLabel(p.zone, v.runAt)}.
          </p>
          <PlannedStages stages={v.stages} zone={p.zone} />
        </>
      ) : (
        <p class="muted">No stage: nothing in the selection is eligible.</p>
      )}
      {p.notice ?? null}
    </div>
  );
}
