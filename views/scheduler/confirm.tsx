import type { Child } from 'hono/jsx';
import { Flash } from '../components/flash.tsx';
import { labelOf } from '../components/version.tsx';
import { formatDateTime, formatUtc, zoneLabel } from '../format.ts';
import { count, plural } from '../plural.ts';
import type { SchedulerValues } from './form.tsx';
import { ExclusionList, PlannedStages, type PreviewView } from './preview.tsx';
import { ACTION_LABEL, instancesWord } from './words.ts';

export type ConfirmProps = {
  values: SchedulerValues;
  actionType: 'restart' | 'version_change';
  targetImageTag: string | null;
  overridePins: boolean;
  reason: string;
  now: boolean;
  preview: PreviewView;
  intervalMinutes: number;
  failureThresholdPercent: number | null;
  names: Map<string, string>;
  zone: string;
  /** Why the confirmation is shown again (the selection changed), if it is. */
  notice?: string | null;
  /** The first page of the eligible instances (ConfirmInstances). */
  instances?: Child;
  /** Targets applied at once. */
  maxInFlight: number;
  /** The notices as they will be planned: `firstDueAt` null when none go out. */
  notices: {
    notify: boolean;
    leadMinutes: number;
    channels: string[];
    firstDueAt: Date | null;
  };
};

const CHANNEL_LABEL: Record<string, string> = {
  webapp: 'in-app banner',
  email: 'email',
  push: 'push',
};

/** Notices on or off, their lead and channels, and whether the lead can be kept. */
function NoticeFacts({
  n,
  runAt,
  zone,
}: {
  n: ConfirmProps['notices'];
  runAt: Date;
  zone: string;
}) {
  if (!n.firstDueAt) return <span data-notices="off">Off: users are not told ahead.</span>;
  const short = n.firstDueAt.getTime() > runAt.getTime() - n.leadMinutes * 60_000;
  const ahead = Math.max(0, Math.round((runAt.getTime() - n.firstDueAt.getTime()) / 60_000));
  return (
    <span data-notices="on">
      {count(n.leadMinutes, 'minute')} ahead by{' '}
      {n.channels.map((c) => CHANNEL_LABEL[c] ?? c).join(', ')}
      {short ? (
        <div class="text-warn small" data-lead-short>
          The lead cannot be kept: the first notices go out at once (
          {formatDateTime(n.firstDueAt, zone)}),{' '}
          {ahead > 0
            ? `${count(ahead, 'minute')} before the first stage.`
            : 'as the first stage starts.'}
        </div>
      ) : null}
    </span>
  );
}

/** Every field of the form, carried through the confirmation unchanged. */
function Hidden({ values }: { values: SchedulerValues }) {
  return (
    <>
      {Object.entries(values).map(([name, value]) =>
        typeof value === 'string' && value !== '' ? (
          <input type="hidden" name={name} value={value} />
        ) : null,
      )}
    </>
  );
}

/**
 * The confirmation step: what will happen, to how many instances, when (in the admin's
 * zone and in UTC), in which stages and whether pins are overridden. Nothing is scheduled
 * until "Confirm and schedule" is pressed.
 */
export function ConfirmPage(p: ConfirmProps) {
  const v = p.preview;
  const what =
    p.actionType === 'restart'
      ? `Restart ${instancesWord(v.eligible)}`
      : `Change ${instancesWord(v.eligible)} to ${p.targetImageTag ? labelOf(p.targetImageTag) : '—'}`;
  return (
    <>
      <p class="small">
        <a href="/admin/scheduler">← Scheduler</a>
      </p>
      <h1>Confirm: {what}</h1>
      {p.notice ? (
        <Flash tone="error">{p.notice}</Flash>
      ) : (
        <Flash tone="warn">Not scheduled yet. Check the details, then confirm.</Flash>
      )}
      <section class="panel">
        <dl class="facts" id="confirm-facts">
          <dt>Action</dt>
          <dd>
            {ACTION_LABEL[p.actionType]}
            {p.targetImageTag && p.actionType === 'version_change' ? (
              <>
                {' '}
                to <code>{p.targetImageTag}</code>
              </>
            ) : null}
          </dd>
          <dt>Instances</dt>
          <dd>
            <strong data-count={v.eligible}>{instancesWord(v.eligible)}</strong>
          </dd>
          <dt>Run time</dt>
          <dd>
            {p.now ? (
              <span data-run-at="now">Now, as soon as you confirm</span>
            ) : (
              <>
                <time datetime={v.runAt.toISOString()}>{formatDateTime(v.runAt, p.zone)}</time> (
                {zoneLabel(p.zone, v.runAt)})
                <div class="small" data-run-at-utc={v.runAt.toISOString()}>
                  {formatUtc(v.runAt)}
                </div>
              </>
            )}
          </dd>
          <dt>Pins</dt>
          <dd>
            {p.actionType === 'restart'
              ? 'Restarts keep each instance on its version.'
              : p.overridePins
                ? v.pinsOverridden
                  ? plural(v.pinsOverridden, {
                      one: 'Override: # instance pinned to another version moves, and its pin moves to the target.',
                      other:
                        'Override: # instances pinned to another version move, and their pins move to the target.',
                    })
                  : 'Override requested, but no selected instance is pinned to another version.'
                : plural(v.exclusions.pinned.length, {
                    one: 'Respected: # instance pinned to another version is left out.',
                    other: 'Respected: # instances pinned to another version are left out.',
                  })}
          </dd>
          <dt>Notices</dt>
          <dd>
            <NoticeFacts n={p.notices} runAt={v.runAt} zone={p.zone} />
          </dd>
          <dt>At most at once</dt>
          <dd data-max-in-flight={p.maxInFlight}>{instancesWord(p.maxInFlight)}</dd>
          <dt>Failure gate</dt>
          <dd>
            {p.failureThresholdPercent === null
              ? 'None: every stage runs whatever fails.'
              : `Halt when more than ${p.failureThresholdPercent}% of a stage's finished targets failed.`}
          </dd>
          <dt>Reason</dt>
          <dd>{p.reason}</dd>
        </dl>
      </section>
      <h2>Stages</h2>
      <PlannedStages stages={v.stages} zone={p.zone} utc />
      <p class="muted small">
        {v.stages.length > 1
          ? `${count(p.intervalMinutes, 'minute')} between stages.`
          : 'One stage.'}
      </p>
      {p.instances ? (
        <>
          <h2>Instances</h2>
          {p.instances}
        </>
      ) : null}
      <h2>Left out</h2>
      <ExclusionList exclusions={v.exclusions} names={p.names} />
      <form method="post" action="/admin/scheduler" class="toolbar" id="confirm-form">
        <Hidden values={p.values} />
        <input type="hidden" name="expectedEligible" value={String(v.eligible)} />
        {p.now ? null : <input type="hidden" name="runAtUtc" value={v.runAt.toISOString()} />}
        <button type="submit" name="confirmed" value="true">
          Confirm and schedule
        </button>
        <button type="submit" class="secondary" formaction="/admin/scheduler/edit" formnovalidate>
          Back
        </button>
      </form>
    </>
  );
}
