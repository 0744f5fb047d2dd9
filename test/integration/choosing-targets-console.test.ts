import { describe, expect, it } from 'vitest';
import { get, makeManyInstances } from '../helpers/factories.ts';
import { fleetOf, IMAGES } from '../helpers/fleet.ts';
import {
  hiddenFields,
  postFields,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

describe('choosing targets in the console', async () => {
  const { t, call, cookie, hx } = await schedulerConsoleFixture();

  it('takes pasted instance names as well as ids, and names the unknown ones', async () => {
    const [a, b] = await fleetOf(t, 2);
    const nameA = (await call('GET', `/instances/${a?.id}?live=false`)).body.name;
    const ok = await postFields(
      t,
      '/admin/scheduler/preview',
      cookie,
      schedulerForm({ ids: `${nameA}, ${b?.id}` }),
      hx,
    );
    expect(await ok.text()).toContain('2 instances eligible');
    const unknown = await (
      await postFields(
        t,
        '/admin/scheduler/preview',
        cookie,
        schedulerForm({ ids: `${nameA}\nno-such-agent` }),
        hx,
      )
    ).text();
    expect(unknown).toContain('data-preview="invalid"');
    expect(unknown).toContain('No instance is named no-such-agent.');
  });

  it('pages the instances list by the chosen size and links every matching instance to the scheduler', async () => {
    await fleetOf(t, 30, { region: 'iad' });
    const page = await (await get(t, '/admin/instances?region=iad&limit=25', cookie)).text();
    expect(page.match(/name="ids" value=/g)).toHaveLength(25);
    expect(page).toContain('<option value="25" selected="">25</option>');
    expect(page).toMatch(/href="[^"]*limit=25[^"]*" rel="next"/);
    expect(page).toContain('Select all 30 matching…');
    // A submit of the bulk form (so the version chosen there goes along) to the scheduler,
    // with the list's filter; without a `pick` field of its own, the form's other buttons
    // keep the ticked ids.
    expect(page).toMatch(
      /formaction="\/admin\/scheduler" formmethod="get" name="pick" value="filter" id="select-all-matching"/,
    );
    expect(page).toContain('<input type="hidden" name="filterRegion" value="iad"/>');
    expect(page).not.toContain('name="pick" value="ids"');
    // What the browser then asks for: the scheduler set to that filter and that version.
    const scheduler = await (
      await get(
        t,
        `/admin/scheduler?actionType=version_change&when=later&filterRegion=iad&targetImageTag=${encodeURIComponent(IMAGES.old)}&pick=filter`,
        cookie,
      )
    ).text();
    expect(scheduler).toContain(`<option value="${IMAGES.old}" selected=""`);
    expect(scheduler).toMatch(/name="pick" value="filter" checked/);
    expect((await get(t, '/admin/instances?limit=7', cookie)).status).toBe(400);
  });

  it('lists the instances to confirm by name, fifty a page', async () => {
    await makeManyInstances(t, 55, { regions: ['fra'] });
    const fields = schedulerForm({ pick: 'filter', filterRegion: 'fra', reason: 'paged' });
    const confirm = await postFields(t, '/admin/scheduler/confirm', cookie, fields);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html.match(/data-instance-id=/g)).toHaveLength(50);
    expect(html).toContain('1–50 of 55 instances');
    const next = await postFields(
      t,
      '/admin/scheduler/confirm/instances?offset=50',
      cookie,
      hiddenFields(html),
      hx,
    );
    const rest = await next.text();
    expect(rest).toMatch(/^<div id="confirm-instances">/);
    expect(rest.match(/data-instance-id=/g)).toHaveLength(5);
    expect(rest).toContain('51–55 of 55 instances');
    expect(rest).toContain('rel="prev"');
    expect(rest).not.toContain('rel="next"');
  });
});
