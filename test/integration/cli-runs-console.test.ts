import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { adminSession, follow, get, makeApiKey, postForm } from '../helpers/factories.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';

describe('CLI runs in the console', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { admin, cookie } = await adminSession(t);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);

  it('the instance card starts a run (confirmed), shows it live with its stream, then its outcome', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const before = await (await get(t, `/admin/instances/${i.id}`, cookie)).text();
    expect(before).toContain('<h2>CLI run</h2>');
    expect(before).toContain('No CLI run yet.');
    expect(before).toMatch(/data-confirm="Start a CLI run on [^"]+\?"/);
    expect(before).toContain('restarts, version changes and stops are refused');

    const res = await postForm(t, `/admin/instances/${i.id}/cli-runs`, cookie, {
      prompt: '#sim duration=20s lines=10\nrepair it',
    });
    const page = await follow(t, res, cookie);
    expect(page.location).toBe(`/admin/instances/${i.id}`);
    expect(page.html).toContain('CLI run started.');
    expect(page.html).toContain('Live run');
    expect(page.html).toMatch(/data-cli-stream="\/admin\/cli-runs\/[0-9a-f-]+\/events"/);
    expect(page.html).toContain('data-confirm="Cancel this CLI run?"');
    const id = /\/admin\/cli-runs\/([0-9a-f-]{36})\/events/.exec(page.html)?.[1] ?? '';
    const audit = await t.db.db.select().from(auditLog).where(eq(auditLog.subjectId, id));
    expect(audit.map((a) => [a.action, a.actorLabel])).toEqual([['cli_run.start', admin.email]]);

    // A second start is refused with the reason, nothing else changes.
    const again = await follow(
      t,
      await postForm(t, `/admin/instances/${i.id}/cli-runs`, cookie, { prompt: 'x' }),
      cookie,
    );
    expect(again.html).toContain('A CLI run is already live on this instance');

    await settleRuns(t);
    const after = await (await get(t, `/admin/instances/${i.id}`, cookie)).text();
    expect(after).not.toContain('data-cli-stream');
    expect(after).toContain('completed');
    expect(after).toContain('CLI run completed');
  });

  it('the event stream sends the output after the given offset, the status, and the end', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim lines=3' });
    await settleRuns(t);
    const res = await get(t, `/admin/cli-runs/${run.body.id}/events?after=0`, cookie);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain('event: output');
    expect(text).toMatch(/id: \d+/);
    expect(text).toContain('event: status\ndata: completed');
    expect(text).toContain('event: end');
    const resumed = await (
      await get(t, `/admin/cli-runs/${run.body.id}/events`, cookie, { 'Last-Event-ID': '999999' })
    ).text();
    expect(resumed).not.toContain('event: output');
  });

  it('the CLI runs page: Admin badge, filters, search, sort, pages, empty states; the run page', async () => {
    const [a, b] = await fleetOf(t, 2);
    if (!a || !b) throw new Error('no instances');
    await postForm(t, `/admin/instances/${a.id}/cli-runs`, cookie, { prompt: 'admin-owl-run' });
    await platform('POST', `/instances/${b.id}/cli-runs`, { prompt: 'user-owl-run' });
    await settleRuns(t);
    const all = await (await get(t, '/admin/cli-runs?q=owl-run', cookie)).text();
    expect(all).toContain('admin-owl-run');
    expect(all).toContain('user-owl-run');
    expect(all).toContain('badge-admin');
    expect(all).toContain(`Initiated by ${admin.email}`);
    const admins = await (
      await get(t, '/admin/cli-runs?q=owl-run&initiatedBy=admin', cookie)
    ).text();
    expect(admins).toContain('admin-owl-run');
    expect(admins).not.toContain('user-owl-run');
    const none = await (await get(t, '/admin/cli-runs?q=owl-run&status=cancelled', cookie)).text();
    expect(none).toContain('No run matches these filters.');
    const fragment = await (
      await get(t, '/admin/cli-runs?sort=instance&order=asc&q=owl', cookie, {
        'HX-Request': 'true',
        'HX-Target': 'cli-runs-table',
      })
    ).text();
    expect(fragment).toMatch(/^<div id="cli-runs-table">/);
    expect(fragment).toContain('aria-sort="ascending"');
    const paged = await (await get(t, '/admin/cli-runs?limit=1', cookie)).text();
    expect(paged).toContain('rel="next"');
    expect((await get(t, '/admin/cli-runs?status=exploded', cookie)).status).toBe(400);

    const id = /href="\/admin\/cli-runs\/([0-9a-f-]{36})"/.exec(admins)?.[1] ?? '';
    const detail = await (await get(t, `/admin/cli-runs/${id}`, cookie)).text();
    expect(detail).toContain('admin-owl-run');
    expect(detail).toContain('Started on the instance');
    expect(detail).toContain('Ended completed');
    expect(detail).toContain('[sim ');
    expect(detail).toContain('cli_run.<wbr/>start');
  });

  it('cancel from the run page is confirmed and comes back with the outcome', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    const pageBefore = await (await get(t, `/admin/cli-runs/${run.body.id}`, cookie)).text();
    expect(pageBefore).toContain('data-confirm="Cancel this CLI run?"');
    const res = await postForm(t, `/admin/cli-runs/${run.body.id}/cancel?from=run`, cookie, {});
    const page = await follow(t, res, cookie);
    expect(page.location).toBe(`/admin/cli-runs/${run.body.id}`);
    expect(page.html).toContain('The CLI run was cancelled');
    expect(page.html).toContain('cancelled');
    expect(page.html).toContain('cli_run.<wbr/>cancel');
  });
});
