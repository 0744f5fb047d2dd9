// Deprovisioning an instance: `DELETE /api/admin/instances/{id}` (admins; preempts the
// instance's holder as docs/seams.md says) and `DELETE /api/platform/users/{userId}/instances/{id}`
// (the product's apps for the user's own instance; does not preempt), plus the admin's read.
import { createRoute, z } from '@hono/zod-openapi';
import {
  DEPROVISION_STEPS,
  type Deprovision,
  deprovisionOf,
  VOLUME_OUTCOMES,
} from '../../src/deprovision/model.ts';
import { requestDeprovision } from '../../src/deprovision/request.ts';
import { NotFoundError } from '../../src/lib/errors.ts';
import { ctxOf } from '../env.ts';
import { apiApp } from './app.ts';
import { idempotent } from './idempotent.ts';
import { commonProblems, notFoundProblem, problem, Timestamp, Uuid } from './schemas.ts';

export const DeprovisionJson = z
  .object({
    id: Uuid,
    instanceId: Uuid,
    step: z.enum(DEPROVISION_STEPS).openapi({
      description:
        '`waiting` (for the operation or recovery step in flight to end), `ending_work` (pending scheduled targets cancelled, the CLI run cancelled, agents disabled), `destroying_machine`, `deleting_volume`, `retaining` (the instance is destroyed; its volume has snapshots and is kept until `retainUntil`), `destroyed`.',
    }),
    done: z.boolean().openapi({ description: 'True once nothing is left to do.' }),
    machineId: z.string().nullable().openapi({ description: 'The machine it destroys.' }),
    volumeId: z.string().nullable().openapi({ description: 'The volume it deletes or keeps.' }),
    volumeOutcome: z.enum(VOLUME_OUTCOMES).nullable().openapi({
      description:
        "`deleted`, `gone` (already), `retained` (it has snapshots: kept `RECOVERY_RETAIN_DAYS`, then deleted), `refused` (attached to a machine that is not this instance's: left alone, `volumeNote` says why).",
    }),
    volumeNote: z.string().nullable(),
    retainUntil: Timestamp.nullable(),
    lastNote: z
      .string()
      .nullable()
      .openapi({ description: 'Why the current step has not finished yet (it is tried again).' }),
    requestedBy: z.string(),
    createdAt: Timestamp,
    machineDestroyedAt: Timestamp.nullable(),
    destroyedAt: Timestamp.nullable().openapi({
      description: 'When the instance became `destroyed`.',
    }),
    volumeDeletedAt: Timestamp.nullable(),
  })
  .openapi('Deprovision');

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function deprovisionJson(d: Deprovision): z.infer<typeof DeprovisionJson> {
  return {
    id: d.id,
    instanceId: d.instanceId,
    step: d.step,
    done: d.status === 'succeeded',
    machineId: d.machineId,
    volumeId: d.volumeId,
    volumeOutcome: d.volumeOutcome,
    volumeNote: d.volumeNote,
    retainUntil: iso(d.retainUntil),
    lastNote: d.lastNote,
    requestedBy: d.requestedBy,
    createdAt: d.createdAt.toISOString(),
    machineDestroyedAt: iso(d.machineDestroyedAt),
    destroyedAt: iso(d.destroyedAt),
    volumeDeletedAt: iso(d.volumeDeletedAt),
  };
}

const accepted = {
  202: {
    description:
      "Accepted: the instance's deprovision (a repeat answers the same one). Follow it with GET /api/admin/instances/{id}/deprovision, or the instance's `status` (`destroying`, then `destroyed`).",
    content: { 'application/json': { schema: DeprovisionJson } },
  },
};

const DESCRIPTION =
  'Destroys the instance: takes its hold (the instance is `destroying`; it refuses actions, recoveries and CLI runs, and its scheduled targets are skipped), cancels its pending scheduled targets (with the notices\' cancellation follow-ups), cancels its live CLI run ("the instance is being deprovisioned"), disables its agents, destroys its machine (its live sessions end `machine_lost`), then deletes its volume — or keeps it `RECOVERY_RETAIN_DAYS` when it has snapshots, deleted after — and the instance is `destroyed`. Each step is claimed and resumable; a lost Fly answer is settled by looking at the machine or volume. Idempotent: one deprovision per instance.';

const adminDelete = idempotent(
  createRoute({
    method: 'delete',
    path: '/instances/{id}',
    tags: ['instances'],
    summary: 'Deprovision an instance',
    description: `${DESCRIPTION} An operation in flight runs to its end and a recovery to its current step (it then ends \`failed\`, "deprovisioned", removing what it made) before the instance is \`destroying\`; a live CLI run is cancelled at once.`,
    security: [{ adminToken: [] }],
    request: { params: z.object({ id: Uuid }) },
    responses: {
      ...accepted,
      ...commonProblems,
      ...notFoundProblem,
      409: problem('`instance-destroyed`: destroyed before deprovisions existed.'),
    },
  }),
);

const adminGet = createRoute({
  method: 'get',
  path: '/instances/{id}/deprovision',
  tags: ['instances'],
  summary: "An instance's deprovision",
  security: [{ adminToken: [] }],
  request: { params: z.object({ id: Uuid }) },
  responses: {
    200: {
      description: 'The deprovision.',
      content: { 'application/json': { schema: DeprovisionJson } },
    },
    ...commonProblems,
    ...notFoundProblem,
  },
});

const platformDelete = idempotent(
  createRoute({
    method: 'delete',
    path: '/users/{userId}/instances/{id}',
    tags: ['platform'],
    summary: "Deprovision the user's own instance",
    description: `${DESCRIPTION} The user's request does not preempt: while an operation, a recovery or a CLI run holds the instance it is 409 \`instance-busy\` naming the holder (\`holder: { kind, id }\`; a CLI run can be cancelled first). An instance of another user is 404.`,
    security: [{ platformKey: [] }],
    request: { params: z.object({ userId: Uuid, id: Uuid }) },
    responses: {
      ...accepted,
      ...commonProblems,
      ...notFoundProblem,
      409: problem(
        '`instance-busy`: an operation, a recovery or a CLI run holds the instance (`holder` names it); `instance-destroyed`.',
      ),
    },
  }),
);

/** The admin's deprovision routes (mounted under /api/admin). */
export function adminDeprovisionRoutes() {
  return apiApp()
    .openapi(adminDelete, async (c) => {
      const { deprovision } = await requestDeprovision({
        ctx: ctxOf(c),
        input: { instanceId: c.req.valid('param').id },
      });
      return c.json(deprovisionJson(deprovision), 202);
    })
    .openapi(adminGet, async (c) => {
      const { id } = c.req.valid('param');
      const d = await deprovisionOf(c.get('deps').db, id);
      if (!d) throw new NotFoundError('Deprovision of instance', id);
      return c.json(deprovisionJson(d), 200);
    });
}

/** The platform's deprovision route (mounted under /api/platform). */
export function platformDeprovisionRoutes() {
  return apiApp().openapi(platformDelete, async (c) => {
    const { userId, id } = c.req.valid('param');
    const { deprovision } = await requestDeprovision({
      ctx: ctxOf(c),
      input: { instanceId: id, userId },
    });
    return c.json(deprovisionJson(deprovision), 202);
  });
}
