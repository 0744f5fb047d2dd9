import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { cliRunCardData } from '../../src/cli-runs/queries.ts';
import { deprovisionOf } from '../../src/deprovision/model.ts';
import { requestDeprovision } from '../../src/deprovision/request.ts';
import { type OperationRequest, requestOperation } from '../../src/fleet/operations/request.ts';
import { instanceOverview, instancePageData } from '../../src/fleet/overview.ts';
import { pinInstance, unpinInstance } from '../../src/fleet/pins.ts';
import { AppError } from '../../src/lib/errors.ts';
import { recoveryCardData } from '../../src/recovery/queries.ts';
import { deleteRetainedVolumeNow } from '../../src/recovery/retained.ts';
import { recoverNow } from '../../src/recovery/start.ts';
import { cancelAction, cancelTarget } from '../../src/scheduler/cancel.ts';
import { upcomingForInstance } from '../../src/scheduler/queries.ts';
import type { InstanceHolder } from '../../views/instance/actions.tsx';
import { DeprovisionPanel, type DeprovisionPanelProps } from '../../views/instance/deprovision.tsx';
import { LivePanel } from '../../views/instance/live.tsx';
import { OperationPanel } from '../../views/instance/operation.tsx';
import { InstancePage } from '../../views/pages/instance.tsx';
import { RecoveryCard, type RecoveryCardProps } from '../../views/recovery/card.tsx';
import { instanceDetailJson } from '../api/admin/instance-json.ts';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { htmlValidator } from './validate.ts';

const IdParam = z.object({ id: z.uuid() });
const DONE = {
  requested: 'Action started. Its progress is shown under Current action.',
  pinned: 'Pin saved.',
  unpinned: 'Pin removed.',
  'scheduled-cancelled': 'The scheduled action was cancelled for this instance.',
  'batch-cancelled': 'The whole scheduled batch was cancelled.',
  recovering: 'Recovery started. Its steps are shown under Recovery.',
  'retained-deleted': 'The retained old volume was deleted.',
  deprovisioning: 'Deprovision started. Its steps are shown under Deprovision.',
} as const;

/** The deprovision panel's props: the instance's deprovision, or what the button would destroy. */
async function deprovisionProps(
  c: Context<AppEnv>,
  instance: { id: string; name: string; machineId: string | null; volumeId: string | null },
  snapshots: { status: string }[] | null,
): Promise<DeprovisionPanelProps> {
  const deps = c.get('deps');
  return {
    instanceId: instance.id,
    instanceName: instance.name,
    machineId: instance.machineId,
    volumeId: instance.volumeId,
    snapshots: snapshots ? snapshots.filter((s) => s.status === 'created').length : null,
    retainDays: deps.config.recovery.retainDays,
    deprovision: await deprovisionOf(deps.db, instance.id),
    zone: zoneOf(c),
  };
}

/** The recovery card's props for an instance (what src/recovery reads, and whether it may begin one). */
async function recoveryCardProps(
  c: Context<AppEnv>,
  instance: { id: string; name: string; status: string },
): Promise<RecoveryCardProps> {
  const data = await recoveryCardData(c.get('deps').db, instance.id);
  return {
    instanceId: instance.id,
    instanceName: instance.name,
    instanceStatus: instance.status,
    recovery: data.recovery ? { ...data.recovery, instanceName: instance.name } : null,
    steps: data.steps,
    retained: data.retained,
    canRecover: ['running', 'stopped', 'failed'].includes(instance.status),
    zone: zoneOf(c),
  };
}

const LIVE = ['pending', 'running'];
const OPERATION_LABEL: Record<string, string> = {
  provision: 'Provisioning',
  restart: 'A restart',
  version_change: 'A version change',
  stop: 'A stop',
  start: 'A start',
};

/**
 * What holds the instance so that its actions would be refused now, in the order the
 * refusals are checked (src/fleet/operations/request.ts): a live deprovision, a live CLI
 * run, an action in progress, a recovery, then a busy status alone.
 */
function holderOf(s: {
  status: string;
  busy: boolean;
  operation: { kind: string; status: string } | null;
  cliRun: { id: string } | null;
  recovery: { id: string; status: string } | null;
  deprovision: { status: string } | null;
}): InstanceHolder | null {
  if (s.deprovision && LIVE.includes(s.deprovision.status)) return { kind: 'deprovision' };
  if (s.cliRun) return { kind: 'cli_run', id: s.cliRun.id };
  if (s.operation && LIVE.includes(s.operation.status))
    return { kind: 'operation', label: OPERATION_LABEL[s.operation.kind] ?? 'An action' };
  if (s.recovery && LIVE.includes(s.recovery.status))
    return { kind: 'recovery', id: s.recovery.id };
  if (s.busy) return { kind: 'status', status: s.status };
  return null;
}

async function renderPage(c: Context<AppEnv>, id: string) {
  const deps = c.get('deps');
  const [data, upcoming] = await Promise.all([
    instancePageData(deps, id),
    upcomingForInstance(deps.db, id),
  ]);
  const live = data.live ? instanceDetailJson(data).live : null;
  const [recoveryCard, cliRuns, deprovision] = await Promise.all([
    recoveryCardProps(c, data.instance),
    cliRunCardData(deps.db, id),
    deprovisionProps(c, data.instance, data.live && !data.live.error ? data.live.snapshots : null),
  ]);
  const holder = holderOf({
    status: data.instance.status,
    busy: data.busy,
    operation: data.operation,
    cliRun: cliRuns.live,
    recovery: recoveryCard.recovery,
    deprovision: deprovision.deprovision,
  });
  // Recover now is refused while anything else holds the instance, as the actions are.
  const recovery = {
    ...recoveryCard,
    canRecover: recoveryCard.canRecover && (!holder || holder.kind === 'recovery'),
  };
  return c.render(
    <InstancePage
      instance={data.instance}
      operation={data.operation}
      live={live}
      readAt={deps.clock.now()}
      events={data.events}
      audit={data.audit}
      upcoming={upcoming}
      recovery={recovery}
      deprovision={deprovision}
      cliRuns={{
        instanceId: data.instance.id,
        instanceName: data.instance.name,
        instanceStatus: data.instance.status,
        live: cliRuns.live,
        recent: cliRuns.recent,
        zone: zoneOf(c),
      }}
      actions={{
        holder,
        latestImageTag: data.latestImageTag,
        availableTags: data.availableTags,
      }}
      zone={zoneOf(c)}
    />,
    { title: data.instance.name, active: 'instances' },
  );
}

/**
 * Runs a verb, then back to the instance's page (POST-redirect-GET) with a one-shot message:
 * what was done, or why a 409/422 refused it.
 */
async function act(
  c: Context<AppEnv>,
  id: string,
  run: () => Promise<unknown>,
  done: keyof typeof DONE,
) {
  const page = `/admin/instances/${id}`;
  try {
    await run();
  } catch (err) {
    if (
      err instanceof AppError &&
      (err.status === 409 || err.status === 422 || (err.status === 404 && err.code !== 'not-found'))
    )
      return redirectWithFlash(c, page, { tone: 'error', text: err.message });
    throw err;
  }
  return redirectWithFlash(c, page, { tone: 'ok', text: DONE[done] });
}

const ActionForm = z.object({
  imageTag: z.string().max(300).optional(),
  overridePin: z.literal('true').optional(),
});

/** Console: one instance, its actions and their live progress. */
export function instanceDetailRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/:id', htmlValidator('param', IdParam), (c) => renderPage(c, c.req.valid('param').id));

  app.get('/:id/live', htmlValidator('param', IdParam), async (c) => {
    const deps = c.get('deps');
    const overview = await instanceOverview(deps, c.req.valid('param').id);
    const live = instanceDetailJson(overview).live;
    if (!live)
      return c.html(
        <div id="live" class="muted">
          Not read.
        </div>,
      );
    return c.html(
      <LivePanel
        instanceId={overview.instance.id}
        live={live}
        readAt={deps.clock.now()}
        zone={zoneOf(c)}
      />,
    );
  });

  // Polled every 2 s while an action runs; when it has finished, the page reloads to show the outcome.
  app.get('/:id/operation', htmlValidator('param', IdParam), async (c) => {
    const overview = await instanceOverview(c.get('deps'), c.req.valid('param').id, {
      live: false,
    });
    const op = overview.operation;
    if (op && op.status !== 'pending' && op.status !== 'running') c.header('HX-Refresh', 'true');
    return c.html(<OperationPanel op={op} instanceId={overview.instance.id} zone={zoneOf(c)} />);
  });

  // Polled every 2 s while a recovery is active; when it has ended, the page reloads.
  app.get('/:id/recovery', htmlValidator('param', IdParam), async (c) => {
    const overview = await instanceOverview(c.get('deps'), c.req.valid('param').id, {
      live: false,
    });
    const props = await recoveryCardProps(c, overview.instance);
    const r = props.recovery;
    if (!r || (r.status !== 'pending' && r.status !== 'running')) c.header('HX-Refresh', 'true');
    return c.html(<RecoveryCard {...props} />);
  });

  // Polled every 2 s while a deprovision runs; when the instance is destroyed, the page reloads.
  app.get('/:id/deprovision', htmlValidator('param', IdParam), async (c) => {
    const overview = await instanceOverview(c.get('deps'), c.req.valid('param').id, {
      live: false,
    });
    const props = await deprovisionProps(c, overview.instance, null);
    const d = props.deprovision;
    if (!d || d.status === 'succeeded' || d.step === 'retaining') c.header('HX-Refresh', 'true');
    return c.html(<DeprovisionPanel {...props} />);
  });

  app.post('/:id/deprovision', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    return act(
      c,
      id,
      () => requestDeprovision({ ctx: ctxOf(c), input: { instanceId: id } }),
      'deprovisioning',
    );
  });

  app.post('/:id/recover', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    return act(c, id, () => recoverNow({ ctx: ctxOf(c), input: { instanceId: id } }), 'recovering');
  });

  app.post('/:id/retained-volume/delete', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    return act(
      c,
      id,
      () => deleteRetainedVolumeNow({ ctx: ctxOf(c), input: { instanceId: id } }),
      'retained-deleted',
    );
  });

  const kinds: Record<string, (form: z.infer<typeof ActionForm>) => OperationRequest> = {
    restart: () => ({ kind: 'restart' }),
    version: (f) => ({
      kind: 'version_change',
      imageTag: f.imageTag ?? '',
      overridePin: f.overridePin === 'true',
    }),
    'upgrade-to-latest': (f) => ({
      kind: 'upgrade_to_latest',
      overridePin: f.overridePin === 'true',
    }),
    stop: () => ({ kind: 'stop' }),
    start: () => ({ kind: 'start' }),
  };
  app.post(
    '/:id/actions/:action',
    htmlValidator(
      'param',
      IdParam.extend({
        action: z.enum(['restart', 'version', 'upgrade-to-latest', 'stop', 'start']),
      }),
    ),
    htmlValidator('form', ActionForm),
    async (c) => {
      const { id, action } = c.req.valid('param');
      const request = kinds[action]?.(c.req.valid('form'));
      if (!request) return c.notFound();
      return act(
        c,
        id,
        () => requestOperation({ ctx: ctxOf(c), input: { instanceId: id, ...request } }),
        'requested',
      );
    },
  );

  app.post(
    '/:id/pin',
    htmlValidator('param', IdParam),
    htmlValidator(
      'form',
      z.object({ imageTag: z.string().min(1).max(300), reason: z.string().max(300).optional() }),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      return act(
        c,
        id,
        () => pinInstance({ ctx: ctxOf(c), input: { instanceId: id, ...c.req.valid('form') } }),
        'pinned',
      );
    },
  );

  app.post('/:id/unpin', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    return act(
      c,
      id,
      () => unpinInstance({ ctx: ctxOf(c), input: { instanceId: id } }),
      'unpinned',
    );
  });

  app.post(
    '/:id/scheduled/:targetId/cancel',
    htmlValidator('param', IdParam.extend({ targetId: z.uuid() })),
    (c) => {
      const { id, targetId } = c.req.valid('param');
      const ctx = ctxOf(c);
      return act(
        c,
        id,
        () => cancelTarget({ ctx, input: { targetId, instanceId: id } }),
        'scheduled-cancelled',
      );
    },
  );

  app.post(
    '/:id/scheduled-actions/:actionId/cancel',
    htmlValidator('param', IdParam.extend({ actionId: z.uuid() })),
    (c) => {
      const { id, actionId } = c.req.valid('param');
      const ctx = ctxOf(c);
      return act(
        c,
        id,
        () => cancelAction({ ctx, input: { actionId, instanceId: id } }),
        'batch-cancelled',
      );
    },
  );

  return app;
}
