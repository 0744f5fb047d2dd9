import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort, run, waitForOutput } from '../helpers/process.ts';

// The same app under Deno (the `deno` npm package), against PostgreSQL, through main.ts.
const deno = 'node_modules/.bin/deno';

describe.skipIf(!existsSync(deno))('Deno runtime smoke test', async () => {
  const db = await createTestDatabase({ maxConnections: 1 });
  await db.close(); // Deno opens its own pool; migrations are already applied (template).
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const token = `fwa_${'D'.repeat(40)}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetwarden-deno-'));
  // Embedded mode on PostgreSQL: the QStash emulator runs inside Deno too.
  const server = run(
    deno,
    [
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--allow-write',
      '--allow-sys',
      'main.ts',
    ],
    {
      FLEETWARDEN_MODE: 'embedded',
      DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: db.url,
      SESSION_SECRET: 'deno-smoke-session-secret-0123456789',
      ADMIN_EMAIL: 'deno@example.test',
      ADMIN_PASSWORD: 'deno smoke password',
      ADMIN_API_TOKEN: token,
      DENO_NO_UPDATE_CHECK: '1',
    },
  );
  afterAll(async () => {
    await server.stop();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts and answers /healthz and /readyz', async () => {
    await waitForOutput(server, /Listening on/, 90_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('serves the login page and signs in', async () => {
    const page = await fetch(`${base}/admin/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Sign in to fleetwarden');
    const login = await fetch(`${base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'deno@example.test', password: 'deno smoke password' }),
    });
    expect(login.status).toBe(303);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const instances = await fetch(`${base}/admin/instances`, { headers: { Cookie: cookie } });
    expect(instances.status).toBe(200);
  });

  it('answers an authenticated JSON call and refuses an anonymous one', async () => {
    const me = await fetch(`${base}/api/admin/me`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: 'admin_token', prefix: token.slice(0, 12) });
    expect((await fetch(`${base}/api/admin/instances`)).status).toBe(401);
  });

  it('runs the QStash emulator: the sweep schedule exists', async () => {
    const res = await fetch(`${base}/__dev/qstash/v2/schedules/fleetwarden-sweep`, {
      headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
    });
    expect(await res.json()).toMatchObject({
      cron: '* * * * *',
      destination: `${base}/api/callbacks/sweep`,
    });
  });
});

/**
 * The working tree's files (tracked and new, as they are now) copied to a fresh folder
 * with no `.data`, sharing this checkout's node_modules: a fresh clone after `npm ci`.
 */
async function freshCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetwarden-clone-'));
  const files = execFileSync('git', [
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
  ])
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(f));
  for (const file of files) await cp(file, join(dir, file), { recursive: false });
  await symlink(resolve('node_modules'), join(dir, 'node_modules'));
  return dir;
}

// The README's Deno command on a fresh clone, on the embedded default: `deno task start`,
// PGlite in a data folder that does not exist yet, the QStash emulator and the Fly
// simulator in Deno, and one scheduled restart carried out end to end.
describe.skipIf(!existsSync(deno))('Deno on a fresh clone, embedded default', async () => {
  const dir = await freshCopy();
  const hadDataFolder = existsSync(join(dir, '.data'));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const token = `fwa_${'F'.repeat(40)}`;
  const server = run(
    resolve(deno),
    ['task', 'start'],
    {
      PORT: String(port),
      ADMIN_API_TOKEN: token,
      FLY_SIMULATOR_TIME_SCALE: '0.05',
      DENO_NO_UPDATE_CHECK: '1',
    },
    dir,
    { group: true },
  );
  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };

  it('starts with `deno task start`, creating ./.data/pglite', async () => {
    expect(hadDataFolder).toBe(false);
    await waitForOutput(server, /Listening on/, 120_000);
    expect(server.output()).toContain('PGlite at ./.data/pglite');
    expect(server.output()).toContain(`Listening on http://127.0.0.1:${port}`);
    expect(existsSync(join(dir, '.data', 'pglite'))).toBe(true);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', migrations: { current: true } });
  }, 150_000);

  it('carries out a scheduled restart "now" end to end', async () => {
    await waitForOutput(server, /Seeded a demo fleet: 60 instances/, 120_000);
    const running = await call('GET', '/instances?status=running&limit=1');
    const instance = running.body.items[0];
    expect(instance?.status).toBe('running');
    const before = (await call('GET', `/instances/${instance.id}`)).body;
    const scheduled = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [instance.id] },
      runAt: 'now',
      reason: 'deno smoke test',
    });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(201);
    // Bounded: the doorbell, the stage and the restart take seconds at this time scale.
    let action = scheduled.body;
    for (let i = 0; i < 1200 && !['completed', 'failed', 'halted'].includes(action.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      action = (await call('GET', `/scheduled-actions/${scheduled.body.id}`)).body;
    }
    expect(action).toMatchObject({ status: 'completed', counts: { total: 1, applied: 1 } });
    const after = (await call('GET', `/instances/${instance.id}`)).body;
    expect(after.status).toBe('running');
    expect(after.machineVersion).not.toBe(before.machineVersion);
  }, 180_000);
});
