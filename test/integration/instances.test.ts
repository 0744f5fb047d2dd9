import { describe, expect, it } from 'vitest';
import { versionPins } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import {
  adminSession,
  bearer,
  get,
  makeApiKey,
  makeImage,
  makeInstance,
  makeManyInstances,
  makeUser,
} from '../helpers/factories.ts';

type Item = {
  id: string;
  name: string;
  region: string;
  status: string;
  createdAt: string;
  imageTag: string | null;
};

describe('instances list', async () => {
  const t = await createTestApp();
  const { key } = await makeApiKey(t, 'admin');
  const api = async (query: string) => {
    const res = await t.app.request(`/api/admin/instances${query}`, { headers: bearer(key) });
    return { status: res.status, body: await res.json() };
  };
  await makeManyInstances(t, 237);
  const image = await makeImage(t);
  const alice = await makeUser(t, {
    email: 'alice.wonder@example.test',
    displayName: 'Alice Wonder',
  });
  const aliceInstance = await makeInstance(t, {
    userId: alice.id,
    name: 'alice-agent',
    region: 'fra',
    status: 'stopped',
    imageTag: image.imageTag,
  });
  await t.db.db
    .insert(versionPins)
    .values({ instanceId: aliceInstance.id, imageTag: image.imageTag, reason: 'customer asked' });

  it('walks every page forward and back without gaps or repeats, newest first', async () => {
    const seen: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await api(`?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.total).toBe(238);
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(new Set(seen.map((i) => i.id)).size).toBe(238);
    const times = seen.map((i) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);

    // Back from the last page, through prevCursor, to the first.
    const last = await api(`?limit=50&sort=name&order=asc`);
    let page = last.body;
    const forward: string[] = [...page.items.map((i: Item) => i.name)];
    while (page.nextCursor) {
      page = (await api(`?limit=50&sort=name&order=asc&cursor=${page.nextCursor}`)).body;
      forward.push(...page.items.map((i: Item) => i.name));
    }
    expect(forward).toEqual([...forward].sort());
    const backward: string[] = [...page.items.map((i: Item) => i.name)];
    while (page.prevCursor) {
      page = (await api(`?limit=50&sort=name&order=asc&cursor=${page.prevCursor}`)).body;
      backward.unshift(...page.items.map((i: Item) => i.name));
    }
    expect(backward).toEqual(forward);
  });

  it('sorts by status, region and version with stable ties', async () => {
    for (const sort of ['status', 'region', 'version'] as const) {
      const ids = new Set<string>();
      let cursor: string | null = null;
      do {
        const { body } = await api(
          `?limit=100&sort=${sort}&order=desc${cursor ? `&cursor=${cursor}` : ''}`,
        );
        for (const item of body.items) ids.add(item.id);
        cursor = body.nextCursor;
      } while (cursor);
      expect(ids.size).toBe(238);
    }
    const { body } = await api('?sort=region&order=asc&limit=1');
    expect(body.items[0].region).toBe('ams');
  });

  it('searches by owner email, display name and instance name, case-insensitively', async () => {
    for (const q of ['ALICE.WONDER', 'wonder', 'alice-agent']) {
      const { body } = await api(`?q=${encodeURIComponent(q)}`);
      expect(body.items.map((i: Item) => i.id)).toEqual([aliceInstance.id]);
    }
    const none = await api('?q=%25'); // a literal %, not a wildcard
    expect(none.body.total).toBe(0);
  });

  it('filters by status, region, version and pin', async () => {
    expect((await api('?status=stopped')).body.items.map((i: Item) => i.id)).toEqual([
      aliceInstance.id,
    ]);
    expect((await api('?status=running,stopped')).body.total).toBe(238);
    expect((await api('?region=fra')).body.total).toBe(1);
    expect((await api(`?imageTag=${encodeURIComponent(image.imageTag)}`)).body.total).toBe(1);
    const pinned = await api('?hasPin=true');
    expect(pinned.body.items).toHaveLength(1);
    expect(pinned.body.items[0].pinnedImageTag).toBe(image.imageTag);
    expect((await api('?hasPin=false')).body.total).toBe(237);
  });

  it('rejects bad filters and cursors with a 400 problem listing the fields', async () => {
    const bad = await api('?status=sleeping&limit=5000&sort=color');
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('/problems/invalid-request');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'limit',
      'sort',
      'status',
    ]);
    const cursor = await api('?cursor=garbage');
    expect(cursor.status).toBe(400);
    expect(cursor.body.type).toBe('/problems/invalid-cursor');
  });

  it('GET /api/admin/instances/{id} returns one instance, 404 for an unknown id', async () => {
    const one = await t.app.request(`/api/admin/instances/${aliceInstance.id}`, {
      headers: bearer(key),
    });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({
      id: aliceInstance.id,
      name: 'alice-agent',
      user: { email: 'alice.wonder@example.test' },
      pinnedImageTag: image.imageTag,
    });
    const missing = await t.app.request(
      '/api/admin/instances/0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11',
      { headers: bearer(key) },
    );
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const malformed = await t.app.request('/api/admin/instances/not-a-uuid', {
      headers: bearer(key),
    });
    expect(malformed.status).toBe(400);
  });

  it('renders the console list with filters, and the table alone for htmx', async () => {
    const { cookie } = await adminSession(t);
    const page = await get(t, '/admin/instances?q=wonder', cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('alice-agent');
    expect(html).toContain('<select name="region"');
    expect(html).toContain('1 instance match');
    const fragment = await get(t, '/admin/instances?status=stopped', cookie, {
      'HX-Request': 'true',
    });
    const fragmentHtml = await fragment.text();
    expect(fragmentHtml.startsWith('<div id="instances-table">')).toBe(true);
    expect(fragmentHtml).not.toContain('<html');
    const empty = await (await get(t, '/admin/instances?q=zzzz-no-match', cookie)).text();
    expect(empty).toContain('No instances match these filters');
  });

  it('shows the instance page with its owner and pin', async () => {
    const { cookie } = await adminSession(t);
    const res = await get(t, `/admin/instances/${aliceInstance.id}`, cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('alice.wonder@example.test');
    expect(html).toContain(image.imageTag);
    expect(
      (await get(t, '/admin/instances/0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11', cookie)).status,
    ).toBe(404);
  });

  it('shows times in the viewer zone and names the zone', async () => {
    const { cookie } = await adminSession(t);
    const html = await (
      await get(t, `/admin/instances/${aliceInstance.id}`, `${cookie}; tz=Asia/Tokyo`)
    ).text();
    expect(html).toContain('Asia/Tokyo');
    expect(html).toMatch(/GMT\+9|JST/);
  });

  it("lists a user's instances on the platform API", async () => {
    const { key: platformKey } = await makeApiKey(t, 'platform');
    const res = await t.app.request(`/api/platform/users/${alice.id}/instances`, {
      headers: bearer(platformKey),
    });
    expect(await res.json()).toMatchObject({
      items: [{ id: aliceInstance.id, status: 'stopped', region: 'fra' }],
      nextCursor: null,
    });
  });

  it("pages a user's instances on the platform API instead of stopping at 200", async () => {
    const { key: platformKey } = await makeApiKey(t, 'platform');
    const owner = await makeUser(t);
    const made = (
      await Promise.all(Array.from({ length: 205 }, () => makeInstance(t, { userId: owner.id })))
    ).map((i) => i.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor
        ? `?limit=200&cursor=${encodeURIComponent(cursor)}`
        : '?limit=200';
      const res = await t.app.request(`/api/platform/users/${owner.id}/instances${query}`, {
        headers: bearer(platformKey),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((i) => i.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(205);
    expect(new Set(seen)).toEqual(new Set(made));
  });
});
