import { parse } from 'node-html-parser';
import { expect } from 'vitest';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { createTestApp, type TestApp } from './app.ts';
import { adminSession, makeApiKey } from './factories.ts';
import { api, seedCatalog } from './fleet.ts';

/** A same-origin form POST whose fields may repeat (one `ids` per ticked checkbox). */
export function postFields(
  t: TestApp,
  path: string,
  cookie: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields))
    for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
  return t.app.request(t.url(path), {
    method: 'POST',
    headers: {
      Origin: t.origin,
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: cookie,
      ...headers,
    },
    body,
  });
}

/** The hidden fields a page carries (the confirmation step's copy of the form). */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of parse(html).querySelectorAll('input[type=hidden]')) {
    const name = input.getAttribute('name');
    if (name) out[name] = input.getAttribute('value') ?? '';
  }
  return out;
}

/**
 * What every console scheduler test starts from: an app with the catalog, an admin API
 * client, and a signed-in admin viewing times in Tokyo (no DST, so +09:00 all year).
 */
export async function schedulerConsoleFixture() {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const session = await adminSession(t);
  return {
    t,
    call: api(t, key),
    admin: session.admin,
    cookie: `${session.cookie}; tz=Asia/Tokyo`,
    hx: { 'HX-Request': 'true' },
    /** An hour from now, as Tokyo wall-clock time for a datetime-local field. */
    inAnHour: () => zonedInputValue(new Date(t.clock.now().getTime() + 3_600_000), 'Asia/Tokyo'),
  };
}

/** The scheduler form's fields with sensible defaults: restart the given ids now. */
export function schedulerForm(over: Record<string, string | string[]> = {}) {
  return {
    actionType: 'restart',
    pick: 'ids',
    when: 'now',
    stages: '100',
    intervalMinutes: '0',
    reason: 'console test',
    ...over,
  };
}

/**
 * Schedules through the console as an admin does: the form to the confirmation step, then
 * the confirmation's own hidden fields with "Confirm and schedule". Returns the action id.
 */
export async function scheduleFromConsole(
  t: TestApp,
  cookie: string,
  fields: Record<string, string | string[]>,
): Promise<string> {
  const confirm = await postFields(t, '/admin/scheduler/confirm', cookie, fields);
  const html = await confirm.text();
  expect(confirm.status, html.slice(0, 2000)).toBe(200);
  const done = await postFields(t, '/admin/scheduler', cookie, {
    ...hiddenFields(html),
    confirmed: 'true',
  });
  expect(done.status, (await done.clone().text()).slice(0, 2000)).toBe(303);
  const location = done.headers.get('location') ?? '';
  const id = /^\/admin\/scheduler\/([0-9a-f-]{36})$/.exec(location)?.[1];
  expect(id, location).toBeTruthy();
  return id ?? '';
}
