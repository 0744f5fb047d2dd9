import { z } from 'zod';
import { AppError } from '../../src/lib/errors.ts';
import { zonedInputToInstant } from '../../src/lib/zoned-time.ts';
import { DEFAULT_NOTICE_SETTINGS, MAX_LEAD_MINUTES } from '../../src/notices/model.ts';
import { DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_LIMIT } from '../../src/scheduler/model.ts';
import type { ScheduleInput } from '../../src/scheduler/schedule.ts';
import type { NotifyValues } from '../../views/notices/notify-fields.tsx';
import type { SchedulerValues } from '../../views/scheduler/form.tsx';
import { ScheduleRequest, toScheduleInput } from '../api/admin/schedule-request.ts';

const text = (max: number) => z.string().max(max).optional();
const flag = z.literal('true').optional();
/** Repeated fields (one checkbox per instance) arrive as an array; pasted ids as one string. */
const idList = z
  .union([z.string().max(800_000), z.array(z.string().max(100)).max(20_000)])
  .optional()
  .transform((v) => (Array.isArray(v) ? v.join('\n') : v));

/**
 * The scheduler form as the browser sends it: every field a string, so what the admin
 * typed can always be shown again (after Back, or with an error). `toScheduleInput`
 * turns it into the domain's input with the JSON API's own schema.
 */
export const SchedulerForm = z.object({
  actionType: z.enum(['restart', 'version_change']).default('restart'),
  pick: z.enum(['ids', 'filter']).default('ids'),
  ids: idList,
  filterStatus: text(20),
  filterRegion: text(20),
  filterImageTag: text(300),
  versionBelow: text(300),
  hasPin: z.enum(['', 'yes', 'no']).optional(),
  when: z.enum(['now', 'later']).default('now'),
  runAt: text(40),
  stages: text(100),
  intervalMinutes: text(20),
  failureThresholdPercent: text(10),
  targetImageTag: text(300),
  overridePins: flag,
  includeStopped: flag,
  skipAlreadyScheduled: flag,
  maxInFlight: text(10),
  reason: text(500),
  noticeFields: z.literal('1').optional(),
  notify: z.enum(['on', 'off']).optional(),
  leadMinutes: text(10),
  noticeSubject: text(200),
  noticeBody: text(4000),
  notifyEmail: flag,
  notifyPush: flag,
  notifyWebapp: flag,
});

/**
 * The notify controls as the JSON API's fields. A form without them (an old link) keeps
 * the defaults; with them, an unticked channel is left out.
 */
export function noticeFieldsOf(v: NotifyValues) {
  if (v.noticeFields !== '1') return {};
  const lead = v.leadMinutes?.trim() ? Number(v.leadMinutes) : DEFAULT_NOTICE_SETTINGS.leadMinutes;
  if (!Number.isInteger(lead) || lead < 0 || lead > MAX_LEAD_MINUTES)
    throw invalid(
      `Lead time: whole minutes from 0 to ${MAX_LEAD_MINUTES.toLocaleString('en')} (a week).`,
    );
  return {
    notify: v.notify !== 'off',
    leadMinutes: lead,
    subject: v.noticeSubject?.trim() || null,
    body: v.noticeBody?.trim() ? v.noticeBody : null,
    channels: (
      [
        ['email', v.notifyEmail],
        ['push', v.notifyPush],
        ['webapp', v.notifyWebapp],
      ] as const
    )
      .filter(([, on]) => on === 'true')
      .map(([c]) => c),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A 400 whose message is shown next to the form (not an error page). */
const invalid = (message: string) =>
  new AppError(400, 'invalid-request', 'Check the form', message);

/** Pasted ids or names: one per line or separated by commas, spaces or semicolons. */
export function parseIds(raw: string | undefined): string[] {
  return (raw ?? '').split(/[\s,;]+/).filter(Boolean);
}

function numbers(raw: string, label: string): number[] {
  const parts = raw.split(/[\s,;]+/).filter(Boolean);
  const values = parts.map(Number);
  if (!parts.length || values.some((v) => !Number.isFinite(v)))
    throw invalid(`${label}: write numbers separated by commas, e.g. 1, 10, 100.`);
  return values;
}

const LABELS: Record<string, string> = {
  instances: 'Instances',
  runAt: 'Run time',
  targetImageTag: 'Target version',
  reason: 'Reason',
  rollout: 'Rollout',
};

/**
 * Reads the form as a schedule request in the admin's `zone`: the run time is wall-clock
 * time there, converted to a UTC instant by @date-fns/tz. Throws a 400 naming the field
 * for anything malformed. For a preview the reason may still be empty.
 */
export function toScheduleInputFromForm(
  v: SchedulerValues,
  zone: string,
  options: { requireReason: boolean },
): ScheduleInput {
  let instances: z.input<typeof ScheduleRequest>['instances'];
  if (v.pick === 'ids') {
    const ids = parseIds(v.ids);
    if (!ids.length) throw invalid('Paste at least one instance name or id, or choose by filter.');
    const bad = ids.filter((id) => !UUID.test(id));
    if (bad.length)
      throw invalid(
        `Not instance ids: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`,
      );
    instances = { ids };
  } else {
    instances = {
      filter: {
        ...(v.filterStatus ? { status: [v.filterStatus] } : {}),
        ...(v.filterRegion ? { region: v.filterRegion } : {}),
        ...(v.filterImageTag ? { imageTag: v.filterImageTag } : {}),
        ...(v.versionBelow ? { versionBelow: v.versionBelow } : {}),
        ...(v.hasPin ? { hasPin: v.hasPin === 'yes' } : {}),
      },
    } as typeof instances;
  }
  let runAt = 'now';
  if (v.when === 'later') {
    if (!v.runAt) throw invalid(`Run time: choose a date and time (${zone}), or "now".`);
    const at = zonedInputToInstant(v.runAt, zone);
    if (!at) throw invalid(`Run time: ${v.runAt} is not a valid time in ${zone}.`);
    runAt = at.toISOString();
  }
  const interval = Number(v.intervalMinutes?.trim() || '0');
  if (!Number.isFinite(interval)) throw invalid('Interval: minutes between stages, e.g. 30.');
  const gate = v.failureThresholdPercent?.trim();
  if (gate && !Number.isFinite(Number(gate)))
    throw invalid('Failure gate: a percentage from 0 to 100, or empty for none.');
  const maxInFlight = Number(v.maxInFlight?.trim() || DEFAULT_MAX_IN_FLIGHT);
  if (!Number.isInteger(maxInFlight))
    throw invalid(
      `At most at once: a whole number from 1 to ${MAX_IN_FLIGHT_LIMIT.toLocaleString('en')}.`,
    );
  const reason = v.reason?.trim() ?? '';
  if (options.requireReason && !reason)
    throw invalid('Reason: say why; it is shown to admins and in the audit log.');
  const parsed = ScheduleRequest.safeParse({
    actionType: v.actionType,
    instances,
    runAt,
    ...(v.actionType === 'version_change' && v.targetImageTag
      ? { targetImageTag: v.targetImageTag }
      : {}),
    overridePins: v.overridePins === 'true',
    reason: reason || 'preview',
    rollout: {
      stages: numbers(v.stages?.trim() || '100', 'Stages'),
      intervalMinutes: interval,
      failureThresholdPercent: gate ? Number(gate) : null,
    },
    skipAlreadyScheduled: v.skipAlreadyScheduled === 'true',
    includeStopped: v.includeStopped === 'true',
    maxInFlight,
    ...noticeFieldsOf(v),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const field = path.includes('stages')
      ? 'Stages'
      : path.includes('intervalMinutes')
        ? 'Interval (minutes)'
        : path.includes('failureThresholdPercent')
          ? 'Failure gate (%)'
          : path.includes('maxInFlight')
            ? 'At most at once'
            : path.includes('subject')
              ? 'Subject'
              : path.includes('body')
                ? 'Message'
                : (LABELS[String(path[0])] ?? 'Form');
    throw invalid(`${field}: ${issue?.message ?? 'invalid'}`);
  }
  return toScheduleInput(parsed.data);
}
