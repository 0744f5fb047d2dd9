import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, run, startNode, waitForOutput } from '../helpers/process.ts';

// Issue 18, defect 9: a second `npm start` in the same folder opened ./.data/pglite and
// migrated it under the running server before failing to listen; after that and a kill -9
// of the first, every start failed with `Aborted()`. Runs the real Node entry.
describe('a second start in the same folder', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetwarden-second-'));
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env = {
    PORT: String(port),
    DATA_DIR: dataDir,
    ADMIN_API_TOKEN: `fwa_${'S'.repeat(40)}`,
    FLY_SIMULATOR_TIME_SCALE: '0.05',
  };
  const second = async (extra: Record<string, string>) => {
    const p = run(process.execPath, ['--import', 'tsx', 'node.ts'], { ...env, ...extra });
    const code = await p.exited;
    return { code, output: p.output() };
  };

  it('exits naming the running one and leaves its database alone; after a kill -9 the next start works', async () => {
    const first = startNode(env);
    let killed = false;
    try {
      await waitForOutput(first, /Listening on/);
      // Its start-up work done (the demo fleet is written last).
      await waitForOutput(first, /Seeded a demo fleet/);
      const pid = String(first.child.pid);
      // Same port, and another port: both refused before the database is opened.
      const samePort: Record<string, string> = {};
      for (const extra of [samePort, { PORT: String(await freePort()) }]) {
        const refused = await second(extra);
        expect(refused.code, refused.output).toBe(1);
        expect(refused.output).toContain('fleetwarden is already running');
        expect(refused.output).toContain(`pid ${pid}`);
        expect(refused.output).toContain(`http://localhost:${port}`);
        expect(refused.output).not.toContain('Listening on');
      }
      expect((await fetch(`http://localhost:${port}/readyz`)).status).toBe(200);
      first.child.kill('SIGKILL');
      await first.exited;
      killed = true;
    } finally {
      if (!killed) await first.stop();
    }
    // The lock of a process that is gone is taken over, and the database opens (before the
    // fix, every start from here on failed with `Aborted()`).
    const third = startNode(env);
    try {
      await waitForOutput(third, /Listening on/);
      expect(third.output()).not.toContain('Aborted');
      expect((await fetch(`http://localhost:${port}/readyz`)).status).toBe(200);
    } finally {
      await third.stop();
    }
  }, 120_000);

  it('exits with a clear message when the port is taken by something else, before opening the database', async () => {
    const busy = await freePort();
    const { createServer } = await import('node:net');
    const other = createServer();
    await new Promise<void>((r) => other.listen(busy, '127.0.0.1', () => r()));
    try {
      const freshDir = await mkdtemp(join(tmpdir(), 'fleetwarden-port-'));
      try {
        const refused = await second({ PORT: String(busy), DATA_DIR: freshDir });
        expect(refused.code, refused.output).toBe(1);
        expect(refused.output).toContain(`port ${busy} is in use`);
        expect(refused.output).not.toContain('One-time password');
      } finally {
        await rm(freshDir, { recursive: true, force: true });
      }
    } finally {
      await new Promise((r) => other.close(r));
    }
  }, 60_000);
});
