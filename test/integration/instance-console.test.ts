import { eq } from 'drizzle-orm';
import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { instances } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, follow, get, makeApiKey, postForm } from '../helpers/factories.ts';
import {
  api,
  fleetOf,
  IMAGES,
  provisioned,
  seedCatalog,
  settleOperations,
} from '../helpers/fleet.ts';

describe('instance actions in the console', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const { cookie } = await adminSession(t);

  it('shows the live machine, the actions and the timeline', async () => {
    const instance = await provisioned(t, call);
    const html = await (await get(t, `/admin/instances/${instance.id}`, cookie)).text();
    expect(html).toContain('Live machine');
    expect(html).toContain(instance.machineVersion);
    expect(html).toContain('badge-ok">started');
    expect(html).toContain('Upgrade to latest now');
    expect(html).toContain('Provisioned');
    const live = await get(t, `/admin/instances/${instance.id}/live`, cookie, {
      'HX-Request': 'true',
    });
    expect(await live.text()).toMatch(/^<div id="live">/);
  });

  it('says the instances list is a snapshot, with a reload that keeps its filters', async () => {
    await provisioned(t, call);
    const html = await (await get(t, '/admin/instances?region=ams&sort=name', cookie)).text();
    expect(html).toMatch(/This list, as read at <time datetime="[^"]+Z"/);
    expect(html).toContain('href="/admin/instances?region=ams&amp;sort=name');
    expect(html).toContain('">Reload</a> for newer.');
  });

  it('restarts from the console and follows the progress until done', async () => {
    const instance = await provisioned(t, call);
    const res = await postForm(t, `/admin/instances/${instance.id}/actions/restart`, cookie, {});
    const started = await follow(t, res, cookie);
    expect(started.location).toBe(`/admin/instances/${instance.id}`);
    expect(started.html).toContain('Action started.');
    const during = await (
      await get(t, `/admin/instances/${instance.id}/operation`, cookie, { 'HX-Request': 'true' })
    ).text();
    expect(during).toContain('hx-trigger="every 2s"');
    expect(during).toContain('Restart');
    // A second action while this one runs is refused with the reason on the page.
    const busy = await postForm(t, `/admin/instances/${instance.id}/actions/stop`, cookie, {});
    const refusedBusy = await follow(t, busy, cookie);
    expect(refusedBusy.location).toBe(`/admin/instances/${instance.id}`);
    expect(refusedBusy.html).toContain('The instance is busy');
    await settleOperations(t);
    const done = await get(t, `/admin/instances/${instance.id}/operation`, cookie, {
      'HX-Request': 'true',
    });
    expect(done.headers.get('hx-refresh')).toBe('true');
    expect(await done.text()).toContain('succeeded');
  });

  it('refuses a version change on a pinned instance without override, with the reason', async () => {
    const instance = await provisioned(t, call);
    expect(
      (
        await postForm(t, `/admin/instances/${instance.id}/pin`, cookie, {
          imageTag: IMAGES.current,
          reason: 'hold',
        })
      ).status,
    ).toBe(303);
    const refused = await postForm(t, `/admin/instances/${instance.id}/actions/version`, cookie, {
      imageTag: IMAGES.latest,
    });
    expect((await follow(t, refused, cookie)).html).toContain('pinned to');
    const ok = await postForm(t, `/admin/instances/${instance.id}/actions/version`, cookie, {
      imageTag: IMAGES.latest,
      overridePin: 'true',
    });
    expect(ok.status).toBe(303);
    await settleOperations(t);
    const page = await (await get(t, `/admin/instances/${instance.id}`, cookie)).text();
    expect(page).toContain(`Pinned to <code>${IMAGES.latest}</code>`);
    expect((await postForm(t, `/admin/instances/${instance.id}/unpin`, cookie, {})).status).toBe(
      303,
    );
  });

  it('provisions and imports from the instances page', async () => {
    const res = await postForm(t, '/admin/instances/provision', cookie, {
      userEmail: 'new.owner@example.test',
      region: 'iad',
      imageTag: '',
    });
    const { location, html } = await follow(t, res, cookie);
    expect(location).toMatch(/^\/admin\/instances\/[0-9a-f-]{36}$/);
    expect(html).toContain('Provisioning started.');
    await settleOperations(t);
    expect(await (await get(t, location, cookie)).text()).toContain(IMAGES.latest);
    const bad = await postForm(t, '/admin/instances/provision', cookie, {
      userEmail: 'x@example.test',
      region: 'iad',
      imageTag: IMAGES.disabled,
    });
    const refusedBad = await follow(t, bad, cookie);
    expect(refusedBad.location).toBe('/admin/instances');
    expect(refusedBad.html).toContain('disabled');
    const imported = await postForm(t, '/admin/instances/import', cookie, {
      appName: t.deps.config.fly.appName,
    });
    expect((await follow(t, imported, cookie)).html).toMatch(/Imported 0 of \d+ machines?/);
  });

  it('manages the image catalog under Settings', async () => {
    const tag = 'registry.fly.io/agent:2.0.0';
    expect(
      (
        await postForm(t, '/admin/settings/images', cookie, {
          imageTag: tag,
          versionLabel: '2.0.0',
          variant: 'default',
        })
      ).status,
    ).toBe(303);
    const dup = await postForm(t, '/admin/settings/images', cookie, {
      imageTag: tag,
      versionLabel: '2.0.0',
    });
    expect(dup.status).toBe(422);
    expect(await dup.text()).toContain('already in the catalog');
    expect(
      (
        await postForm(
          t,
          `/admin/settings/images/latest?tag=${encodeURIComponent(tag)}`,
          cookie,
          {},
        )
      ).status,
    ).toBe(303);
    const images = (await call('GET', '/images')).body.items as {
      imageTag: string;
      isLatest: boolean;
    }[];
    expect(images.filter((i) => i.isLatest).map((i) => i.imageTag)).toEqual([tag]);
    expect(
      (
        await postForm(
          t,
          `/admin/settings/images/disable?tag=${encodeURIComponent(tag)}`,
          cookie,
          {},
        )
      ).status,
    ).toBe(303);
    const after = (await call('GET', '/images')).body.items.find(
      (i: { imageTag: string }) => i.imageTag === tag,
    );
    expect(after).toMatchObject({ status: 'disabled', isLatest: false });
  });

  it('while a CLI run holds the instance, its actions are disabled with a sentence linking the run', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    const started = await follow(
      t,
      await postForm(t, `/admin/instances/${i.id}/cli-runs`, cookie, {
        prompt: '#sim duration=60s lines=10\nlook around',
      }),
      cookie,
    );
    expect(started.html).toContain('CLI run started.');
    const runId = /\/admin\/cli-runs\/([0-9a-f-]{36})\/events/.exec(started.html)?.[1];
    const actions = parse(started.html).querySelector('#actions');
    const note = actions?.querySelector('[data-holder=cli_run]');
    expect(note?.text).toContain('A CLI run is live on this instance');
    expect(note?.querySelector('a')?.getAttribute('href')).toBe(`/admin/cli-runs/${runId}`);
    const buttons = actions?.querySelectorAll('button') ?? [];
    expect(buttons.map((b) => b.text.trim())).toEqual(
      expect.arrayContaining(['Restart', 'Change version', 'Stop', 'Start']),
    );
    for (const b of buttons) expect(b.hasAttribute('disabled'), b.text).toBe(true);
    // Recover now would be refused too: it is not offered.
    expect(started.html).not.toContain('>Recover now<');
  });

  it('an instance with an error and no action says so without claiming an action failed', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    await t.db.db
      .update(instances)
      .set({ status: 'stopped', lastError: 'the machine did not start: no capacity' })
      .where(eq(instances.id, i.id));
    const html = await (await get(t, `/admin/instances/${i.id}`, cookie)).text();
    expect(html).toContain('No action has run on this instance yet.');
    expect(html).not.toContain('The last action failed.');
    expect(html).toContain('The instance is stopped: its last error.');
    expect(html).toContain('the machine did not start: no capacity');
    expect(parse(html).querySelector('#actions [data-holder]')).toBeNull();
  });
});
