import { inArray } from 'drizzle-orm';
import { expect } from 'vitest';
import {
  imageCatalog,
  instanceOperations,
  instances,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { waitForMachineState } from '../../src/adapters/fly/wait.ts';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { machineConfigFor } from '../../src/fleet/machine-config.ts';
import type { TestApp } from './app.ts';
import { bearer, makeUser } from './factories.ts';

export const IMAGES = {
  old: 'registry.fly.io/agent:1.0.0',
  current: 'registry.fly.io/agent:1.1.0',
  latest: 'registry.fly.io/agent:1.2.0',
  disabled: 'registry.fly.io/agent:0.9.0',
} as const;

/** Three available versions (1.2.0 latest) and a disabled one; the Fly app in the simulator. */
export async function seedCatalog(t: TestApp) {
  await t.db.db
    .insert(imageCatalog)
    .values([
      {
        imageTag: IMAGES.old,
        versionLabel: '1.0.0',
        publishedAt: new Date('2026-01-01T00:00:00Z'),
      },
      {
        imageTag: IMAGES.current,
        versionLabel: '1.1.0',
        publishedAt: new Date('2026-02-01T00:00:00Z'),
      },
      {
        imageTag: IMAGES.latest,
        versionLabel: '1.2.0',
        isLatest: true,
        publishedAt: new Date('2026-03-01T00:00:00Z'),
      },
      {
        imageTag: IMAGES.disabled,
        versionLabel: '0.9.0',
        status: 'disabled',
        publishedAt: new Date('2025-12-01T00:00:00Z'),
      },
    ])
    .onConflictDoNothing();
  await t.deps.fly.createApp(t.deps.config.fly.appName).catch(() => {});
}

/** Posts to the Fly simulator's fault endpoint (`POST /__dev/fly/_faults`), in-process. */
export async function flyFaults(t: TestApp, body: Record<string, unknown> | null) {
  const request = new Request(`${t.origin}/__dev/fly/_faults`, {
    method: body ? 'POST' : 'DELETE',
    headers: {
      Authorization: `Bearer ${t.deps.config.fly.token}`,
      'Content-Type': 'application/json',
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const res = await t.app.fetch(request, IN_PROCESS_ENV);
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

/**
 * Delivers doorbells until no instance action is pending or running, moving the test clock
 * `stepMs` between rounds so retries scheduled for later come due. Returns the rounds used.
 */
export async function settleOperations(
  t: TestApp,
  options: { stepMs?: number; maxRounds?: number } = {},
) {
  for (let round = 0; round < (options.maxRounds ?? 40); round++) {
    await t.deliverDue();
    const active = await t.db.db
      .select({ id: instanceOperations.id })
      .from(instanceOperations)
      .where(inArray(instanceOperations.status, ['pending', 'running']));
    if (active.length === 0) return round;
    t.clock.advance(options.stepMs ?? 3000);
  }
  throw new Error('operations did not settle');
}

/** An admin-API caller bound to a token. */
export function api(t: TestApp, token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await t.app.request(t.url(`/api/admin${path}`), {
      method,
      headers: {
        ...bearer(token),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/** Provisions an instance through the API and waits until it is running. */
export async function provisioned(
  t: TestApp,
  call: ReturnType<typeof api>,
  input: Record<string, unknown> = {},
) {
  const res = await call('POST', '/instances', {
    userEmail: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`,
    region: 'ams',
    imageTag: IMAGES.current,
    ...input,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await settleOperations(t);
  const detail = await call('GET', `/instances/${res.body.instanceId}`);
  expect(detail.body.status, JSON.stringify(detail.body.operation)).toBe('running');
  return detail.body as {
    id: string;
    machineId: string;
    volumeId: string;
    machineVersion: string;
    imageTag: string;
  };
}

/**
 * `n` running instances with real machines in the simulator, written directly (faster
 * than provisioning through doorbells), each returned once its machine has started.
 * Returns their ids and machine ids.
 */
export async function fleetOf(
  t: TestApp,
  n: number,
  over: { region?: string; imageTag?: string; userId?: string } = {},
) {
  const app = t.deps.config.fly.appName;
  const created: { id: string; machineId: string; machineVersion: string }[] = [];
  for (let i = 0; i < n; i++) {
    const user = over.userId ? { id: over.userId } : await makeUser(t);
    const region = over.region ?? 'ams';
    const imageTag = over.imageTag ?? IMAGES.current;
    // The id comes first so the machine carries the instance's controller token.
    const id = crypto.randomUUID();
    const config = await machineConfigFor(t.deps, { instanceId: id, image: imageTag });
    const machine = await t.deps.fly.createMachine(app, { region, config });
    const [row] = await t.db.db
      .insert(instances)
      .values({
        id,
        userId: user.id,
        name: `fleet-${crypto.randomUUID().slice(0, 12)}`,
        appName: app,
        machineId: machine.id,
        region,
        imageTag,
        machineVersion: machine.instance_id,
        status: 'running',
      })
      .returning();
    if (!row) throw new Error('no instance');
    created.push({ id: row.id, machineId: machine.id, machineVersion: machine.instance_id });
  }
  // Running means started: wait for each machine as Fly's wait endpoint reports it (the
  // simulator boots them in scaled real time, 2 s each at time scale 1).
  await Promise.all(
    created.map((c) =>
      waitForMachineState(t.deps.fly, app, c.machineId, {
        state: 'started',
        instanceId: c.machineVersion,
        deadlineMs: 30_000,
      }),
    ),
  );
  return created;
}

/** Delivers doorbells, moving the clock, until no target and no operation is pending or running. */
export async function settleScheduler(
  t: TestApp,
  options: { stepMs?: number; maxRounds?: number } = {},
) {
  for (let round = 0; round < (options.maxRounds ?? 60); round++) {
    await t.deliverDue();
    const [targets, ops] = await Promise.all([
      t.db.db
        .select({ id: scheduledActionTargets.id })
        .from(scheduledActionTargets)
        .where(inArray(scheduledActionTargets.status, ['pending', 'running'])),
      t.db.db
        .select({ id: instanceOperations.id })
        .from(instanceOperations)
        .where(inArray(instanceOperations.status, ['pending', 'running'])),
    ]);
    if (targets.length === 0 && ops.length === 0) return round;
    t.clock.advance(options.stepMs ?? 5000);
  }
  const open = await t.db.db
    .select()
    .from(scheduledActionTargets)
    .where(inArray(scheduledActionTargets.status, ['pending', 'running']));
  const ops = await t.db.db
    .select()
    .from(instanceOperations)
    .where(inArray(instanceOperations.status, ['pending', 'running']));
  throw new Error(
    `scheduled actions did not settle: ${JSON.stringify({ targets: open.slice(0, 3), ops: ops.slice(0, 3) })}`,
  );
}
