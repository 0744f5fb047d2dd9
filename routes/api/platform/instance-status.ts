import { createRoute, z } from '@hono/zod-openapi';
import { getInstance } from '../../../src/fleet/instances.ts';
import { contactsOf } from '../../../src/fleet/users.ts';
import { upcomingAction } from '../../../src/notices/queries.ts';
import { activeRecovery } from '../../../src/recovery/model.ts';
import { ACTION_TYPES } from '../../../src/scheduler/model.ts';
import { RecoveryStep, RecoveryWait } from '../admin/recovery-json.ts';
import { apiApp } from '../app.ts';
import {
  commonProblems,
  InstanceStatus,
  notFoundProblem,
  orNull,
  Timestamp,
  Uuid,
} from '../schemas.ts';

export const UpcomingActionJson = z
  .object({
    actionId: Uuid,
    targetId: Uuid,
    actionType: z.enum(ACTION_TYPES),
    targetImageTag: z.string().nullable(),
    scheduledAt: Timestamp.openapi({ description: "When the instance's stage is due (UTC)." }),
    noticeAt: Timestamp.openapi({ description: 'When the notice window opened (UTC).' }),
    subject: z.string().nullable(),
    body: z.string().nullable().openapi({ description: 'Plain text; render it escaped.' }),
  })
  .openapi('UpcomingAction');

/**
 * The status answer. An object of named parts, so other features add theirs (e.g. the
 * instance's recovery) with `.extend` without changing these.
 */
export const InstanceStatusJson = z
  .object({
    instanceId: Uuid,
    status: InstanceStatus,
    timeZone: z.string().openapi({ description: "The user's IANA zone, for showing times." }),
    upcomingAction: orNull(UpcomingActionJson).openapi({
      description:
        'For the in-app banner: null unless the action notifies on `webapp` and its lead window has opened.',
    }),
    recovery: z
      .object({
        step: RecoveryStep,
        startedAt: Timestamp,
        waitingFor: orNull(RecoveryWait),
      })
      .nullable()
      .openapi({
        description:
          'While `status` is `recovering`: the step it is in (`in_place_start`, `started`, `volume_created`, `machine_created`, `machine_started`, `cut_over`), since when, and what it waits for if it cannot go on yet (`host_unreachable`, `insufficient_capacity`: the instance keeps its machine and data meanwhile); null otherwise.',
      }),
  })
  // Not `InstanceStatus`: that name is the status enum's (routes/api/schemas.ts), and two
  // schemas under one name made generated clients read this answer as a bare string.
  .openapi('InstanceStatusReport');

const route = createRoute({
  method: 'get',
  path: '/instances/{id}/status',
  tags: ['platform'],
  summary: "An instance's status and its upcoming action, for the product's apps",
  security: [{ platformKey: [] }],
  request: { params: z.object({ id: Uuid }) },
  responses: {
    200: {
      description: 'The status.',
      content: { 'application/json': { schema: InstanceStatusJson } },
    },
    ...commonProblems,
    ...notFoundProblem,
  },
});

export function instanceStatusRoute() {
  const app = apiApp();
  app.openapi(route, async (c) => {
    const deps = c.get('deps');
    const instance = await getInstance(deps.db, c.req.valid('param').id);
    const [contact, upcoming, recovery] = await Promise.all([
      contactsOf(deps.db, [instance.user.id]),
      upcomingAction(deps.db, instance.id, deps.clock.now()),
      activeRecovery(deps.db, instance.id),
    ]);
    return c.json(
      {
        instanceId: instance.id,
        status: instance.status,
        timeZone: contact.get(instance.user.id)?.timeZone ?? 'UTC',
        upcomingAction: upcoming
          ? {
              ...upcoming,
              scheduledAt: upcoming.scheduledAt.toISOString(),
              noticeAt: upcoming.noticeAt.toISOString(),
            }
          : null,
        recovery: recovery
          ? {
              step: recovery.step,
              startedAt: recovery.startedAt.toISOString(),
              waitingFor: recovery.waitingFor,
            }
          : null,
      },
      200,
    );
  });
  return app;
}
