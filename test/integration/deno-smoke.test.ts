import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
