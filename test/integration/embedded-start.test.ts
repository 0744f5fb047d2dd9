import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { freePort, run, startNode, waitForOutput } from '../helpers/process.ts';

/** This machine's first non-loopback IPv4 address, to try the server from "outside". */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

// The README's first command on a fresh clone: no environment at all, PGlite in a data
// folder. Runs the real Node entry as a separate process.
describe('first start on the embedded default', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetwarden-embedded-'));
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const token = `fwa_${'E'.repeat(40)}`;
  // A fast simulator so the demo fleet's machines are up by the time we look.
  const env = {
    PORT: String(port),
    DATA_DIR: dataDir,
    ADMIN_API_TOKEN: token,
    FLY_SIMULATOR_TIME_SCALE: '0.05',
  };
  const adminApi = async (path: string) =>
    (
      await fetch(`${base}/api/admin${path}`, { headers: { Authorization: `Bearer ${token}` } })
    ).json();
  let seededInstance: { id: string; machineId: string } | null = null;
  let credentials: { email: string; password: string } | null = null;

  async function signIn(email: string, password: string) {
    return fetch(`${base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }),
    });
  }

  it('starts with no environment, prints the URL and a one-time admin password', async () => {
    const server = startNode(env);
    try {
      await waitForOutput(server, /Listening on/);
      const out = server.output();
      expect(out).toContain(`Listening on http://127.0.0.1:${port}`);
      expect(out).not.toContain('Warning: HOST=');
      expect(out).toContain(`Admin console: ${base}/admin`);
      const email = out.match(/First admin: (\S+)/)?.[1];
      const password = out.match(/One-time password: (\S+)/)?.[1];
      expect(email).toBe('admin@fleetwarden.local');
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      credentials = { email: email ?? '', password: password ?? '' };

      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      const admin = await fetch(`${base}/admin`, { redirect: 'manual' });
      expect(admin.status).toBe(303);
      expect(admin.headers.get('location')).toMatch(/^\/admin\/login/);

      const login = await signIn(credentials.email, credentials.password);
      expect(login.status).toBe(303);
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const console = await fetch(`${base}/admin/instances`, {
        headers: { Cookie: cookie },
        redirect: 'manual',
      });
      // A one-time password leads to choosing a new one first: still inside the console.
      expect(console.headers.get('location')).toBe('/admin/account/password');
      const page = await fetch(`${base}/admin/account/password`, { headers: { Cookie: cookie } });
      expect(await page.text()).toContain('Choose your own to continue');
      // The demo fleet is seeded in the Fly simulator.
      await waitForOutput(server, /Seeded a demo fleet: 60 instances/);
      const fleet = await adminApi('/instances?limit=1');
      expect(fleet.total).toBe(60);
      seededInstance = fleet.items[0];
      // Logs are JSON lines and never carry the password.
      expect(
        server
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"at"')).length,
      ).toBeGreaterThan(3);
      expect(
        server
          .output()
          .split('\n')
          .filter((l) => l.includes(credentials?.password ?? '')).length,
      ).toBe(1);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('keeps the data across a restart and prints no new password', async () => {
    const server = startNode(env);
    try {
      await waitForOutput(server, /Listening on/);
      expect(server.output()).not.toContain('One-time password');
      expect(server.output()).not.toContain('First admin');
      expect(server.output()).not.toContain('Seeded a demo fleet');
      // The fleet and its simulated machines survived the restart.
      expect((await adminApi('/instances?limit=1')).total).toBe(60);
      const detail = await adminApi(`/instances/${seededInstance?.id}`);
      expect(detail.live.machine).toMatchObject({ id: seededInstance?.machineId });
      expect(['started', 'stopped']).toContain(detail.live.machine.state);
      expect((await signIn(credentials?.email ?? '', credentials?.password ?? '')).status).toBe(
        303,
      );
    } finally {
      await server.stop();
    }
  });

  it.skipIf(!external)('is not reachable from another interface by default', async () => {
    const server = startNode(env);
    try {
      await waitForOutput(server, /Listening on/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await expect(fetch(`http://${external}:${port}/healthz`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });

  it.skipIf(!external)(
    'with HOST=0.0.0.0 warns, and /__dev still refuses other machines',
    async () => {
      const server = startNode({ ...env, HOST: '0.0.0.0' });
      try {
        await waitForOutput(server, /Listening on/);
        expect(server.output()).toContain('Warning: HOST=0.0.0.0 makes embedded mode reachable');
        const outside = `http://${external}:${port}`;
        expect((await fetch(`${outside}/healthz`)).status).toBe(200);
        const keys = await fetch(`${outside}/__dev/qstash/v2/keys`, {
          headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
        });
        expect(keys.status).toBe(403);
        const local = await fetch(`${base}/__dev/qstash/v2/keys`, {
          headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
        });
        expect(local.status).toBe(200);
      } finally {
        await server.stop();
      }
    },
  );

  it('refuses a real FLY_API_TOKEN in embedded mode before starting', async () => {
    const p = run(process.execPath, ['--import', 'tsx', 'node.ts'], {
      ...env,
      FLY_API_TOKEN: 'fo1_not-a-real-token',
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('FLY_API_TOKEN: not allowed in embedded mode');
    expect(p.output()).not.toContain('fo1_not-a-real-token');
    expect(p.output()).not.toContain('Listening on');
  });

  it('exits with one readable message naming each bad variable', async () => {
    const p = run(process.execPath, ['--import', 'tsx', 'node.ts'], {
      FLEETWARDEN_MODE: 'production',
      PORT: 'eighty',
      SESSION_SECRET: 'too-short',
      ADMIN_API_TOKEN: 'plain-token',
    });
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toContain('fleetwarden cannot start: the configuration is invalid.');
    for (const name of ['PORT', 'SESSION_SECRET', 'ADMIN_API_TOKEN'])
      expect(out).toMatch(new RegExp(`- ${name}: `));
    expect(out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
    expect(out).not.toContain('too-short');
    expect(out).not.toContain('plain-token');
  });
});
