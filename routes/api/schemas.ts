import { z } from '@hono/zod-openapi';
import { isStorableText, NOT_STORABLE_TEXT } from '../../src/lib/text.ts';
import { PROBLEM_CONTENT_TYPE } from '../problem.tsx';

/** Shared JSON shapes for /api; the OpenAPI document is generated from these. */

export const Problem = z
  .object({
    type: z.string().openapi({ example: '/problems/invalid-request' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem', { description: 'RFC 9457 problem details.' });

const problem = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } },
});

/** Error responses every authenticated route can give; spread into `responses`. */
export const commonProblems = {
  400: problem('The request is malformed or fails validation; `errors` lists each field.'),
  401: problem('Missing, invalid or revoked bearer token.'),
  500: problem('Unexpected server error; quote `requestId` when reporting it.'),
} as const;

export const notFoundProblem = { 404: problem('No such resource.') } as const;
export { problem };

export const Timestamp = z.iso
  .datetime({ offset: true })
  .openapi({ example: '2026-11-22T14:05:09.123Z' });
export const Uuid = z.uuid().openapi({ example: '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11' });

/**
 * A request string the database can store: every free-text field and query value uses
 * this instead of `z.string()`, so a NUL byte (or a lone surrogate) is a 400 naming the
 * field, never a PostgreSQL error. Chain `.max()`, `.trim()` etc. as on `z.string()`.
 */
export const Text = () => z.string().refine(isStorableText, NOT_STORABLE_TEXT);

// The decoder (src/lib/cursor.ts) checks the rest, so a tampered cursor is `invalid-cursor`.
export const Cursor = z.string().max(1000).optional().openapi({
  description: 'Opaque cursor from `nextCursor` or `prevCursor` of the previous page.',
});

export const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(200)
  .default(50)
  .openapi({ description: 'Page size, 1–200.' });

/**
 * `schema` or null. A registered schema's own `.nullable()` came out of the generator as its
 * bare `$ref`, the null lost, so the server's nulls failed validation; a union with null is
 * documented as `anyOf: [$ref, {type: null}]`.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

export const InstanceStatus = z
  .enum([
    'provisioning',
    'running',
    'stopped',
    'restarting',
    'recovering',
    'destroying',
    'destroyed',
    'failed',
  ])
  .openapi('InstanceStatus');

export const InstanceSummary = z
  .object({
    id: Uuid,
    name: z.string(),
    appName: z.string().openapi({ description: 'Fly app the machine belongs to.' }),
    machineId: z.string().nullable().openapi({ description: 'Fly Machine id.' }),
    region: z.string().openapi({ example: 'ams' }),
    imageTag: z.string().nullable(),
    status: InstanceStatus,
    pinnedImageTag: z
      .string()
      .nullable()
      .openapi({ description: 'Version the instance is pinned to, if any.' }),
    user: z.object({ id: Uuid, email: z.string(), displayName: z.string().nullable() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('InstanceSummary');

export const Instance = InstanceSummary.extend({
  volumeId: z.string().nullable().openapi({ description: 'Fly Volume id mounted by the machine.' }),
}).openapi('Instance');

type InstanceLike = {
  id: string;
  name: string;
  appName: string;
  machineId: string | null;
  region: string;
  imageTag: string | null;
  status: z.infer<typeof InstanceStatus>;
  pinnedImageTag: string | null;
  user: { id: string; email: string; displayName: string | null };
  createdAt: Date;
  updatedAt: Date;
};

export function instanceSummaryJson(i: InstanceLike): z.infer<typeof InstanceSummary> {
  return {
    id: i.id,
    name: i.name,
    appName: i.appName,
    machineId: i.machineId,
    region: i.region,
    imageTag: i.imageTag,
    status: i.status,
    pinnedImageTag: i.pinnedImageTag,
    user: i.user,
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
  };
}

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable(),
      prevCursor: z.string().nullable(),
    })
    .openapi(name);
}

export const Operation = z
  .object({
    id: Uuid,
    kind: z.enum(['provision', 'restart', 'version_change', 'stop', 'start']),
    status: z
      .enum(['pending', 'running', 'succeeded', 'failed'])
      .openapi({ description: 'pending → running → succeeded | failed' }),
    step: z
      .enum(['call', 'settle', 'probe', 'done'])
      .openapi({ description: 'call Fly, wait for the machine, probe its health' }),
    fromImageTag: z.string().nullable(),
    targetImageTag: z.string().nullable(),
    expectedVersion: z
      .string()
      .nullable()
      .openapi({ description: 'The machine version (`instance_id`) that must come up healthy.' }),
    requestedBy: z.string(),
    attempts: z.number().int(),
    note: z.string().nullable().openapi({ description: 'Why the last step is being retried.' }),
    error: z.string().nullable().openapi({ description: 'Why it failed.' }),
    createdAt: Timestamp,
    deadlineAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .openapi('InstanceOperation');

type OperationRow = {
  id: string;
  kind: z.infer<typeof Operation>['kind'];
  status: z.infer<typeof Operation>['status'];
  step: z.infer<typeof Operation>['step'];
  fromImageTag: string | null;
  targetImageTag: string | null;
  expectedVersion: string | null;
  requestedBy: string;
  attempts: number;
  lastNote: string | null;
  error: string | null;
  createdAt: Date;
  deadlineAt: Date;
  finishedAt: Date | null;
};

export function operationJson(op: OperationRow): z.infer<typeof Operation> {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    step: op.step,
    fromImageTag: op.fromImageTag,
    targetImageTag: op.targetImageTag,
    expectedVersion: op.expectedVersion,
    requestedBy: op.requestedBy,
    attempts: op.attempts,
    note: op.lastNote,
    error: op.error,
    createdAt: op.createdAt.toISOString(),
    deadlineAt: op.deadlineAt.toISOString(),
    finishedAt: op.finishedAt?.toISOString() ?? null,
  };
}

export const LiveMachine = z
  .object({
    machine: z
      .object({
        id: z.string(),
        state: z.string(),
        region: z.string(),
        instance_id: z.string(),
        image: z.string().nullable(),
        host_status: z.string().nullable(),
        updated_at: z.string(),
      })
      .nullable(),
    volume: z
      .object({
        id: z.string(),
        state: z.string(),
        size_gb: z.number(),
        region: z.string(),
        zone: z.string().nullable(),
      })
      .nullable(),
    snapshots: z.array(
      z.object({
        id: z.string(),
        created_at: z.string(),
        size: z.number().nullable(),
        retention_days: z.number().nullable(),
      }),
    ),
    error: z.string().nullable().openapi({ description: 'What could not be read from Fly.' }),
  })
  .openapi('LiveMachine', {
    description: 'What the Fly Machines API reports right now (its field names).',
  });
