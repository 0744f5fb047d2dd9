import { z } from '@hono/zod-openapi';
import type { InstanceOverview } from '../../../src/fleet/overview.ts';
import type { Recovery } from '../../../src/recovery/model.ts';
import type { Upcoming } from '../../../src/scheduler/queries.ts';
import {
  Instance,
  instanceSummaryJson,
  LiveMachine,
  Operation,
  operationJson,
  orNull,
} from '../schemas.ts';
import { RecoveryJson, recoveryJson } from './recovery-json.ts';
import { UpcomingJson, upcomingJson } from './scheduled-json.ts';

export const InstanceDetail = Instance.extend({
  machineVersion: z
    .string()
    .nullable()
    .openapi({ description: 'The Fly machine version it last ran healthy on.' }),
  lastError: z.string().nullable().openapi({ description: 'Why the last action failed.' }),
  operation: orNull(Operation).openapi({
    description: 'The action in progress, else the last one; null when none has run.',
  }),
  live: orNull(LiveMachine),
  upcomingScheduledAction: orNull(UpcomingJson).openapi({
    description: 'Its pending or running scheduled target, if any.',
  }),
  recovery: orNull(RecoveryJson).openapi({
    description: 'Its active unexpected-stop recovery, if any.',
  }),
}).openapi('InstanceDetail');

export function instanceDetailJson(
  o: InstanceOverview,
  upcoming: Upcoming | null = null,
  recovery: Recovery | null = null,
): z.infer<typeof InstanceDetail> {
  const m = o.live?.machine ?? null;
  return {
    ...instanceSummaryJson(o.instance),
    volumeId: o.instance.volumeId,
    machineVersion: o.instance.machineVersion,
    lastError: o.instance.lastError,
    operation: o.operation ? operationJson(o.operation) : null,
    upcomingScheduledAction: upcoming ? upcomingJson(upcoming) : null,
    recovery: recovery ? recoveryJson({ ...recovery, instanceName: o.instance.name }) : null,
    live: o.live
      ? {
          machine: m
            ? {
                id: m.id,
                state: m.state,
                region: m.region,
                instance_id: m.instance_id,
                image: m.config?.image ?? m.incomplete_config?.image ?? null,
                host_status: m.host_status ?? null,
                updated_at: m.updated_at,
              }
            : null,
          volume: o.live.volume
            ? {
                id: o.live.volume.id,
                state: o.live.volume.state,
                size_gb: o.live.volume.size_gb,
                region: o.live.volume.region,
                zone: o.live.volume.zone ?? null,
              }
            : null,
          snapshots: o.live.snapshots.map((s) => ({
            id: s.id,
            created_at: s.created_at,
            size: s.size ?? null,
            retention_days: s.retention_days ?? null,
          })),
          error: o.live.error,
        }
      : null,
  };
}
