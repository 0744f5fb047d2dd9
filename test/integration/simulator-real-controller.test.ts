// Embedded mode with a real instance controller: with FLY_SIMULATOR_CONTROLLER_URL set, the
// Fly simulator still checks the machine (started, its own token) and forwards the call to
// the reference controller (controller/), whose real command runs and answers.
import { afterAll, describe, expect, it } from 'vitest';
import { createControllerClient } from '../../src/adapters/controller/client.ts';
import { ControllerError } from '../../src/adapters/controller/errors.ts';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { simulatorControllerUrlFor } from '../../src/dev-servers/fly-simulator/index.ts';
import { createTestApp, TEST_CONTROLLER_SECRET } from '../helpers/app.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';
import { controllerWorld } from '../helpers/reference-controller.ts';

describe('the Fly simulator forwarding to a real controller', async () => {
  const world = await controllerWorld();
  const proc = await world.start();
  afterAll(async () => {
    await proc.stop();
  });
  const t = await createTestApp({
    env: { FLY_SIMULATOR_CONTROLLER_URL: world.url(), FLY_SIMULATOR_CONTROLLER_TOKEN: world.token },
  });
  await seedCatalog(t);
  const [one] = await fleetOf(t, 1);
  if (!one) throw new Error('no fleet');
  const app = t.deps.config.fly.appName;
  const target = { appName: app, machineId: one.machineId, instanceId: one.id };
  const client = (secret: string) =>
    createControllerClient({
      baseUrlFor: simulatorControllerUrlFor(t.deps.config.fly.apiUrl),
      secret,
      fetch: async (input, init) => t.app.fetch(new Request(input, init), IN_PROCESS_ENV),
    });
  const c = client(TEST_CONTROLLER_SECRET);

  it('a CLI run started through the simulator runs the real command and reports its exit code', async () => {
    const { runId } = await c.startCliRun(target, { prompt: 'exit-3', idempotencyKey: 'k-1' });
    await expect
      .poll(async () => (await c.getCliRun(target, runId)).status, {
        interval: 20,
        timeout: 10_000,
      })
      .toBe('failed');
    expect(await c.getCliRun(target, runId)).toMatchObject({ exitCode: 3 });
    const out = await c.getCliRunOutput(target, runId, 0);
    expect(out).toMatchObject({
      complete: true,
      chunks: [{ offset: 0, text: `token=none run=${runId}\n` }],
    });
    // The same run, asked of the controller directly.
    expect(await world.client.getCliRun(world.target, runId)).toMatchObject({ status: 'failed' });
    expect(await c.startCliRun(target, { prompt: 'exit-3', idempotencyKey: 'k-1' })).toMatchObject({
      runId,
      replayed: true,
    });
  });

  it('the machine is still the simulator’s: its own token (401) and its state (503 once stopped) come first', async () => {
    const wrong = await client('another-secret-0123456789-0123456789')
      .getCliRun(target, 'x')
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ControllerError);
    expect(wrong).toMatchObject({ kind: 'unauthorized', status: 401 });
    await t.deps.fly.stopMachine(app, one.machineId);
    const stopped = await c.getCliRun(target, 'x').catch((e: unknown) => e);
    expect(stopped).toMatchObject({ kind: 'unreachable', status: 503 });
  });
});
