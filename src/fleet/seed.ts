import { and, count, eq } from 'drizzle-orm';
import { imageCatalog, instances, versionPins } from '../../db/schema/index.ts';
import { FlyApiError } from '../adapters/fly/errors.ts';
import { waitForMachineState } from '../adapters/fly/wait.ts';
import type { Deps } from '../deps.ts';
import { recordInstanceEvent } from './events.ts';
import { OWNER_METADATA_KEY } from './import.ts';
import { machineConfigFor } from './machine-config.ts';
import { VOLUME_SIZE_GB } from './operations/provision-step.ts';
import { findOrCreateUser } from './users.ts';

const IMAGE = 'registry.fly.io/fleetwarden-agent';
export const DEMO_IMAGES = [
  { imageTag: `${IMAGE}:1.4.2`, versionLabel: '1.4.2', daysAgo: 63 },
  { imageTag: `${IMAGE}:1.5.0`, versionLabel: '1.5.0', daysAgo: 21 },
  { imageTag: `${IMAGE}:1.6.0`, versionLabel: '1.6.0', daysAgo: 2 },
] as const;

const REGIONS = ['ams', 'iad', 'sin'] as const;
/** How long the seed waits for one demo machine to start (the simulator takes ~2 s). */
const SEED_START_DEADLINE_MS = 60_000;
const FIRST = [
  'Ada',
  'Bo',
  'Cleo',
  'Dev',
  'Eli',
  'Fay',
  'Gus',
  'Hana',
  'Ivo',
  'Jun',
  'Kai',
  'Lea',
  'Mo',
  'Noor',
  'Otto',
];
const LAST = ['Okafor', 'Lindqvist', 'Tanaka', 'Moreau'];

/**
 * The embedded default's demo fleet, created once on an empty database: three catalog
 * versions, 60 users with one instance each across three regions (a real volume and
 * machine in the simulator for each), snapshots on some volumes, a few pins, and one
 * instance already stopped. An instance reads `provisioning` until its machine has started
 * (Fly's wait endpoint), and only then `running`, so nothing is sent to a machine that is
 * still booting. Returns how many instances it created (0 when not empty).
 */
export async function seedDemoFleet(deps: Deps, options: { users?: number } = {}): Promise<number> {
  const [existing] = await deps.db.select({ n: count() }).from(instances);
  if ((existing?.n ?? 0) > 0) return 0;
  const app = deps.config.fly.appName;
  const now = deps.clock.now();
  try {
    await deps.fly.createApp(app);
  } catch (err) {
    if (!(err instanceof FlyApiError && (err.status === 409 || err.status === 422))) throw err;
  }
  await deps.db
    .insert(imageCatalog)
    .values(
      DEMO_IMAGES.map((img, i) => ({
        imageTag: img.imageTag,
        versionLabel: img.versionLabel,
        isLatest: i === DEMO_IMAGES.length - 1,
        publishedAt: new Date(now.getTime() - img.daysAgo * 86_400_000),
      })),
    )
    .onConflictDoNothing();
  const total = options.users ?? 60;
  // Machines boot while the next ones are created; each is waited for after the loop.
  const booting: { instanceId: string; machineId: string; version: string }[] = [];
  for (let i = 0; i < total; i++) {
    const first = FIRST[i % FIRST.length] ?? 'Ada';
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? 'Okafor';
    const email = `${first}.${last}${i}@demo.fleetwarden.dev`.toLowerCase();
    const user = await findOrCreateUser(deps.db, { email, displayName: `${first} ${last}` });
    const region = REGIONS[i % REGIONS.length] ?? 'ams';
    const image = DEMO_IMAGES[i % 10 === 0 ? 0 : i % 4 === 0 ? 2 : 1] ?? DEMO_IMAGES[1];
    const name = `agent-${first.toLowerCase()}-${i}`;
    // Instances appear an hour apart; the timeline's "created" event says the same time.
    const createdAt = new Date(now.getTime() - (total - i) * 3_600_000);
    const [instance] = await deps.db
      .insert(instances)
      .values({
        userId: user.id,
        name,
        appName: app,
        region,
        imageTag: image.imageTag,
        status: 'provisioning',
        createdAt,
      })
      .returning();
    if (!instance) continue;
    const volume = await deps.fly.createVolume(app, {
      name: `data_${i}`,
      region,
      size_gb: VOLUME_SIZE_GB,
      require_unique_zone: false,
    });
    if (i % 6 === 0) await deps.fly.createSnapshot(app, volume.id);
    const machine = await deps.fly.createMachine(app, {
      name,
      region,
      config: await machineConfigFor(deps, {
        instanceId: instance.id,
        image: image.imageTag,
        volumeId: volume.id,
        metadata: { [OWNER_METADATA_KEY]: email },
      }),
    });
    const stopped = i === 7;
    if (stopped) await deps.fly.stopMachine(app, machine.id);
    else
      booting.push({
        instanceId: instance.id,
        machineId: machine.id,
        version: machine.instance_id,
      });
    await deps.db
      .update(instances)
      .set({
        machineId: machine.id,
        volumeId: volume.id,
        machineVersion: machine.instance_id,
        ...(stopped ? { status: 'stopped' as const } : {}),
      })
      .where(eq(instances.id, instance.id));
    if (i % 15 === 3)
      await deps.db.insert(versionPins).values({
        instanceId: instance.id,
        imageTag: image.imageTag,
        reason: 'customer asked to stay on this version',
      });
    await recordInstanceEvent(deps.db, {
      instanceId: instance.id,
      type: 'seeded',
      payload: { region, imageTag: image.imageTag },
      at: createdAt,
    });
  }
  for (const m of booting) {
    try {
      await waitForMachineState(deps.fly, app, m.machineId, {
        state: 'started',
        instanceId: m.version,
        deadlineMs: SEED_START_DEADLINE_MS,
      });
    } catch (err) {
      // Left `provisioning` with the reason: the instance page says why, nothing calls it.
      deps.log.error('seed.machine_not_started', { machineId: m.machineId, error: err });
      await deps.db
        .update(instances)
        .set({ lastError: `the demo machine did not start: ${String(err)}` })
        .where(eq(instances.id, m.instanceId));
      continue;
    }
    await deps.db
      .update(instances)
      .set({ status: 'running' })
      .where(and(eq(instances.id, m.instanceId), eq(instances.status, 'provisioning')));
  }
  deps.log.info('seed.demo_fleet', { instances: total });
  return total;
}
