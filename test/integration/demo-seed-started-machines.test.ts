import { describe, expect, it } from 'vitest';
import { seedDemoFleet } from '../../src/fleet/seed.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';

// Issue 18, defect 11: the seed set `running` right after creating each machine, so for
// its first seconds a CLI run on a "running" demo instance answered 502 "machine is not
// started". The simulator keeps Fly's real pace here: a machine takes 2 s to start.
describe('the demo seed', async () => {
  const t = await createTestApp({ serve: true, flyTimeScale: 1 });
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);
  const app = t.deps.config.fly.appName;

  it('marks an instance running only once its machine is started, so a CLI run on it starts at once', async () => {
    expect(await seedDemoFleet(t.deps, { users: 3 })).toBe(3);
    const listed = (await admin('GET', '/instances?limit=50')).body.items as {
      id: string;
      machineId: string;
      status: string;
    }[];
    expect(listed.map((i) => i.status)).toEqual(['running', 'running', 'running']);
    const runs = await Promise.all(
      listed.map((i) => admin('POST', `/instances/${i.id}/cli-runs`, { prompt: 'hello' })),
    );
    expect(runs.map((r) => r.status)).toEqual([201, 201, 201]);
    for (const instance of listed)
      expect((await t.deps.fly.getMachine(app, instance.machineId)).state).toBe('started');
  });
});
