import { describe, expect, it } from 'vitest';
import { get } from '../helpers/factories.ts';
import { fleetOf } from '../helpers/fleet.ts';
import {
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
    expect(page).toContain(
      'href="/admin/scheduler?actionType=version_change&amp;pick=filter&amp;when=later&amp;filterRegion=iad"',
    );
    expect((await get(t, '/admin/instances?limit=7', cookie)).status).toBe(400);
  });
});
