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
    return res.body.id as string;
  };

  // One completed, one cancelled, two scheduled: every status rank but the live ones.
  const completed = await schedule('now', 'done');
  await settleScheduler(t);
  const cancelled = await schedule(inSeconds(3600), 'dropped');
  await call('POST', `/scheduled-actions/${cancelled}/cancel`);
  const later = await schedule(inSeconds(7200), 'later');
  const sooner = await schedule(inSeconds(5400), 'sooner');

  it('sorts by status, live first, then run time, across keyset pages both ways', async () => {
    const seen: { id: string; status: string }[] = [];
    let page = await call('GET', '/scheduled-actions?sort=status&order=asc&limit=3');
    seen.push(...page.body.items);
    const firstPage = page.body.items.map((a: { id: string }) => a.id);
    page = await call(
      'GET',
      `/scheduled-actions?sort=status&order=asc&limit=3&cursor=${page.body.nextCursor}`,
    );
    seen.push(...page.body.items);
    expect(page.body.nextCursor).toBeNull();
    expect(seen.map((a) => a.id)).toEqual([sooner, later, completed, cancelled]);
    expect(seen.map((a) => RANK.indexOf(a.status))).toEqual([2, 2, 4, 5]);

    const back = await call(
      'GET',
      `/scheduled-actions?sort=status&order=asc&limit=3&cursor=${page.body.prevCursor}`,
    );
    expect(back.body.items.map((a: { id: string }) => a.id)).toEqual(firstPage);

    const desc = await call('GET', '/scheduled-actions?sort=status&order=desc&limit=10');
    expect(desc.body.items.map((a: { id: string }) => a.id)).toEqual([
      cancelled,
      completed,
      later,
      sooner,
    ]);
  });

  it('refuses a cursor made for another sort with 400', async () => {
    const byTime = (await call('GET', '/scheduled-actions?limit=1')).body.nextCursor;
    expect(byTime).toBeTruthy();
    const res = await call('GET', `/scheduled-actions?sort=status&cursor=${byTime}`);
    expect(res.status).toBe(400);
    expect(res.body.type).toMatch(/invalid-cursor/);
  });
});
