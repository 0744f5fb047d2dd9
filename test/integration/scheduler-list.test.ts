import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

const RANK = ['running', 'halted', 'scheduled', 'failed', 'completed', 'cancelled'];

describe('listing scheduled actions', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const inSeconds = (s: number) => new Date(t.clock.now().getTime() + s * 1000).toISOString();
  const schedule = async (runAt: string, reason: string) => {
    const fleet = await fleetOf(t, 1);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt,
      reason,
    });
    expect(res.status).toBe(201);
    t.clock.advance(1000); // distinct creation times: the clock is frozen otherwise
    return res.body.id as string;
  };

  // One completed, one cancelled, two scheduled: every status rank but the live ones.
  const completed = await schedule('now', 'done');
  await settleScheduler(t);
  const cancelled = await schedule(inSeconds(3600), 'dropped');
  await call('POST', `/scheduled-actions/${cancelled}/cancel`);
  const later = await schedule(inSeconds(7200), 'later');
  const sooner = await schedule(inSeconds(5400), 'sooner');

  const ids = (body: { items: { id: string }[] }) => body.items.map((a) => a.id);

  /** Every page of a listing, one row a page (so page breaks fall inside ties), then back. */
  async function walk(query: string) {
    const forward: string[] = [];
    const pages: { nextCursor: string | null; prevCursor: string | null }[] = [];
    let page = await call('GET', `/scheduled-actions?${query}&limit=1`);
    for (;;) {
      expect(page.status).toBe(200);
      forward.push(...ids(page.body));
      pages.push(page.body);
      if (!page.body.nextCursor) break;
      page = await call(
        'GET',
        `/scheduled-actions?${query}&limit=1&cursor=${page.body.nextCursor}`,
      );
    }
    const backward: string[] = [];
    let cursor = pages.at(-1)?.prevCursor;
    while (cursor) {
      const prev = await call('GET', `/scheduled-actions?${query}&limit=1&cursor=${cursor}`);
      backward.unshift(...ids(prev.body));
      cursor = prev.body.prevCursor;
    }
    return { forward, backward };
  }

  it('sorts by status, live first, then run time, a page at a time both ways', async () => {
    const asc = await walk('sort=status&order=asc');
    expect(asc.forward).toEqual([sooner, later, completed, cancelled]);
    expect(asc.backward).toEqual(asc.forward.slice(0, -1));
    const all = (await call('GET', '/scheduled-actions?sort=status&order=asc')).body.items;
    expect(all.map((a: { status: string }) => RANK.indexOf(a.status))).toEqual([2, 2, 4, 5]);

    const desc = await walk('sort=status&order=desc');
    expect(desc.forward).toEqual([cancelled, completed, later, sooner]);
    expect(desc.backward).toEqual(desc.forward.slice(0, -1));
  });

  it('pages by run time and by creation time', async () => {
    expect((await walk('sort=run_at&order=desc')).forward).toEqual([
      later,
      sooner,
      cancelled,
      completed,
    ]);
    expect((await walk('sort=created&order=asc')).forward).toEqual([
      completed,
      cancelled,
      later,
      sooner,
    ]);
  });

  it('refuses a cursor made for another sort or order, or tampered with, with 400', async () => {
    const cursorOf = async (query: string) =>
      (await call('GET', `/scheduled-actions?${query}&limit=1`)).body.nextCursor as string;
    const byTime = await cursorOf('sort=run_at&order=desc');
    const byStatus = await cursorOf('sort=status&order=asc');
    const tampered = Buffer.from(
      JSON.stringify(['status.asc|x|2026-01-01T00:00:00.000Z', completed, 'after']),
    ).toString('base64url');
    for (const query of [
      `sort=status&order=asc&cursor=${byTime}`,
      `sort=run_at&order=desc&cursor=${byStatus}`,
      `sort=status&order=desc&cursor=${byStatus}`,
      `sort=created&order=desc&cursor=${byTime}`,
      `sort=status&order=asc&cursor=${tampered}`,
    ]) {
      const res = await call('GET', `/scheduled-actions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.type).toMatch(/invalid-cursor/);
    }
  });
});
