import { eq, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { admins, cliRuns, imageCatalog, instances, users } from '../../db/schema/index.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { SYSTEM_ACTOR } from '../../src/deps.ts';
import type { TestApp } from './app.ts';

let seq = 0;
/** A name unique within the run, so factories never collide. */
export const unique = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

export const TEST_PASSWORD = 'correct horse battery staple';

export async function makeAdmin(
  t: TestApp,
  over: { email?: string; password?: string; mustChangePassword?: boolean } = {},
) {
  const email = over.email ?? `${unique('admin')}@example.test`;
  const [row] = await t.db.db
    .insert(admins)
    .values({
      email,
      passwordHash: await hashPassword(
        over.password ?? TEST_PASSWORD,
        t.deps.security.pbkdf2Iterations,
      ),
      mustChangePassword: over.mustChangePassword ?? false,
    })
    .returning();
  if (!row) throw new Error('no admin');
  return { ...row, password: over.password ?? TEST_PASSWORD };
}

/** Cookie header value from a response's Set-Cookie headers (name=value pairs only). */
export function cookiesFrom(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .filter((c) => !c?.endsWith('='))
    .join('; ');
}

/** Signs in through the real form; returns the Cookie header for later requests. */
export async function signIn(t: TestApp, email: string, password: string): Promise<string> {
  const res = await t.app.request(t.url('/admin/login'), {
    method: 'POST',
    headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  return cookiesFrom(res);
}

/** A signed-in admin: `{ admin, cookie }`. */
export async function adminSession(t: TestApp) {
  const admin = await makeAdmin(t);
  return { admin, cookie: await signIn(t, admin.email, admin.password) };
}

/** GET with a cookie. */
export function get(
  t: TestApp,
  path: string,
  cookie?: string,
  headers: Record<string, string> = {},
) {
  return t.app.request(t.url(path), {
    headers: { ...(cookie ? { Cookie: cookie } : {}), ...headers },
  });
}

/** A same-origin form POST, as the browser sends it. */
export function postForm(
  t: TestApp,
  path: string,
  cookie: string | undefined,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return t.app.request(t.url(path), {
    method: 'POST',
    headers: {
      Origin: t.origin,
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(cookie ? { Cookie: cookie } : {}),
      ...headers,
    },
    body: new URLSearchParams(form),
  });
}

export async function makeApiKey(t: TestApp, kind: 'admin' | 'platform', label = unique('key')) {
  return createApiKey({
    ctx: { ...t.deps, actor: SYSTEM_ACTOR, requestId: null },
    input: { kind, label },
  });
}

/**
 * `Fleetwarden-User: <owner>` for the instance or CLI run a platform path names (none when
 * it names neither, or they do not exist): a platform-key request acting for that user.
 */
export async function ownerHeader(t: TestApp, path: string): Promise<Record<string, string>> {
  const uuid = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
  const instanceId = new RegExp(`/instances/${uuid}`).exec(path)?.[1];
  const runId = new RegExp(`/cli-runs/${uuid}`).exec(path)?.[1];
  let userId: string | undefined;
  if (instanceId)
    [{ userId } = { userId: undefined }] = await t.db.db
      .select({ userId: instances.userId })
      .from(instances)
      .where(eq(instances.id, instanceId));
  else if (runId)
    [{ userId } = { userId: undefined }] = await t.db.db
      .select({ userId: instances.userId })
      .from(cliRuns)
      .innerJoin(instances, eq(instances.id, cliRuns.instanceId))
      .where(eq(cliRuns.id, runId));
  // Unknown or malformed ids still need a user named, so the route answers its own 404/400.
  if (userId) return { 'Fleetwarden-User': userId };
  return /\/(instances|cli-runs)\//.test(path) ? { 'Fleetwarden-User': crypto.randomUUID() } : {};
}

export function bearer(token: string) {
  return { Authorization: `Bearer ${token}` };
}

export async function makeImage(t: TestApp, tag = unique('registry.fly.io/agent:v')) {
  const [row] = await t.db.db
    .insert(imageCatalog)
    .values({ imageTag: tag, versionLabel: tag.split(':').pop() ?? tag })
    .returning();
  if (!row) throw new Error('no image');
  return row;
}

export async function makeUser(t: TestApp, over: { email?: string; displayName?: string } = {}) {
  const [row] = await t.db.db
    .insert(users)
    .values({
      email: over.email ?? `${unique('user')}@example.test`,
      displayName: over.displayName ?? null,
    })
    .returning();
  if (!row) throw new Error('no user');
  return row;
}

export async function makeInstance(
  t: TestApp,
  over: Partial<typeof instances.$inferInsert> & { userId?: string } = {},
) {
  const userId = over.userId ?? (await makeUser(t)).id;
  const name = over.name ?? unique('inst');
  const [row] = await t.db.db
    .insert(instances)
    .values({
      userId,
      name,
      appName: over.appName ?? 'agents-test',
      machineId: over.machineId ?? name.replace(/[^a-z0-9]/g, '').slice(-14),
      region: over.region ?? 'ams',
      status: over.status ?? 'running',
      imageTag: over.imageTag ?? null,
      ...(over.createdAt ? { createdAt: over.createdAt } : {}),
      ...(over.lastError ? { lastError: over.lastError } : {}),
    })
    .returning();
  if (!row) throw new Error('no instance');
  return row;
}

/** Bulk rows straight in SQL (generate_series), for pagination and bench-size lists. */
export async function makeManyInstances(
  t: TestApp,
  count: number,
  options: { regions?: string[] } = {},
) {
  const regions = options.regions ?? ['ams', 'iad', 'sin'];
  const tag = unique('bulk');
  await t.db.db.execute(sql`
    with u as (
      insert into users (email, display_name)
      select ${tag} || '-' || g || '@example.test', 'User ' || g from generate_series(1, ${count}) g
      returning id, email
    )
    insert into instances (user_id, name, app_name, machine_id, region, status, created_at)
    select u.id, split_part(u.email, '@', 1), 'agents-bulk', md5(u.email)::text,
      (${sql.raw(`array[${regions.map((r) => `'${r}'`).join(',')}]`)})[1 + (row_number() over ()) % ${regions.length}],
      'running', now() - ((row_number() over ()) * interval '1 second')
    from u`);
  return tag;
}

/**
 * Follows a console form's POST-redirect-GET: asserts the 303 and fetches its location with
 * the one-shot flash cookie it set, as the browser does. Returns the page that shows it.
 */
export async function follow(t: TestApp, res: Response, cookie: string) {
  expect(res.status, (await res.clone().text()).slice(0, 500)).toBe(303);
  const location = res.headers.get('location') ?? '';
  const page = await get(t, location, [cookie, cookiesFrom(res)].filter(Boolean).join('; '));
  return { location, status: page.status, html: await page.text() };
}
