import { describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { adminSession, follow, get, makeInstance, postForm } from '../helpers/factories.ts';
import { fakeController } from '../helpers/fake-controller.ts';

describe('console: Agents', async () => {
  const clock = testClock(new Date('2026-12-07T08:00:00Z'));
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const { cookie } = await adminSession(t);
  const instance = await makeInstance(t, { name: 'inst-console-agents' });
  const form = (over: Record<string, string> = {}) => ({
    instance: instance.id,
    name: 'Weekday digest',
    prompt: 'Summarise yesterday.',
    cronExpression: '0 9 * * 1-5',
    timeZone: 'Europe/London',
    enabled: 'on',
    overlapPolicy: 'skip',
    catchupPolicy: 'skip',
    catchupWindowMinutes: '60',
    ...over,
  });

  it('an empty list says so and links to the editor', async () => {
    const html = await (await get(t, '/admin/agents', cookie)).text();
    expect(html).toContain('No agents yet');
    expect(html).toContain('href="/admin/agents/new"');
  });

  it('the preview fragment describes the expression and lists the next 5 fire times in both zones', async () => {
    const res = await postForm(t, '/admin/agents/preview', cookie, {
      cronExpression: '0 9 * * 1-5',
      timeZone: 'Asia/Kolkata',
    });
    const html = await res.text();
    expect(html).toContain('At 09:00, Monday through Friday');
    expect(html.match(/<time datetime=/g)).toHaveLength(5);
    expect(html).toContain('2026-12-08T03:30:00.000Z');
    expect(html).toContain('In your zone, UTC');
    const preset = await (
      await postForm(t, '/admin/agents/preview', cookie, {
        cronExpression: '',
        timeZone: 'UTC',
        preset: '*/5 * * * *',
      })
    ).text();
    expect(preset).toContain('hx-swap-oob="true"');
    expect(preset).toContain('value="*/5 * * * *"');
    const bad = await (
      await postForm(t, '/admin/agents/preview', cookie, {
        cronExpression: '0 9 * *',
        timeZone: 'UTC',
      })
    ).text();
    expect(bad).toContain('Cron expression: 4 fields given; expected 5');
  });

  it('creates an agent, shows it in the list, runs it now and shows the manual session', async () => {
    const created = await follow(t, await postForm(t, '/admin/agents', cookie, form()), cookie);
    expect(created.html).toContain('Agent Weekday digest created.');
    const id = created.location.split('/').pop() ?? '';
    const list = await (await get(t, '/admin/agents?q=digest', cookie)).text();
    expect(list).toContain('Weekday digest');
    expect(list).toContain('At 09:00, Monday through Friday');
    const ran = await follow(t, await postForm(t, `/admin/agents/${id}/run`, cookie, {}), cookie);
    expect(ran.html).toContain('Session started.');
    expect(ran.html).toContain('badge-muted">manual');
  });

  it('a bad expression is refused naming the field as the form does, with the form kept', async () => {
    const res = await postForm(
      t,
      '/admin/agents',
      cookie,
      form({ cronExpression: '0 0 9 * * *', name: 'Broken' }),
    );
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Cron expression: 6 fields given; expected 5');
    expect(html).not.toContain('cronExpression:');
    expect(html).toContain('value="Broken"');
    const zone = await postForm(t, '/admin/agents', cookie, form({ timeZone: 'Mars/Olympus' }));
    expect(zone.status).toBe(422);
    expect(await zone.text()).toMatch(/Time zone: [^<]+/);
  });

  it('the list says it is a snapshot in a sentence, and agent pages link back to the list', async () => {
    const list = await (await get(t, '/admin/agents', cookie)).text();
    expect(list).toMatch(/This list, as read at <time/);
    expect(list).not.toContain('agents, as read at');
    expect(await (await get(t, '/admin/agents/new', cookie)).text()).toContain(
      '<a href="/admin/agents">← Agents</a>',
    );
    const created = await follow(
      t,
      await postForm(t, '/admin/agents', cookie, form({ name: 'Linked back' })),
      cookie,
    );
    expect(created.html).toContain('<a href="/admin/agents">← Agents</a>');
  });

  it('pauses and resumes, and filters by state and zone', async () => {
    const created = await follow(
      t,
      await postForm(t, '/admin/agents', cookie, form({ name: 'Pausable', timeZone: 'UTC' })),
      cookie,
    );
    const id = created.location.split('/').pop() ?? '';
    const paused = await follow(
      t,
      await postForm(t, `/admin/agents/${id}/pause`, cookie, {}),
      cookie,
    );
    expect(paused.html).toContain('paused: it fires nothing until resumed');
    const disabled = await (await get(t, '/admin/agents?enabled=false', cookie)).text();
    expect(disabled).toContain('Pausable');
    expect(disabled).not.toContain('Weekday digest');
    const london = await (await get(t, '/admin/agents?timeZone=Europe/London', cookie)).text();
    expect(london).toContain('Weekday digest');
    expect(london).not.toContain('Pausable');
    const resumed = await follow(
      t,
      await postForm(t, `/admin/agents/${id}/resume`, cookie, {}),
      cookie,
    );
    expect(resumed.html).toContain('Agent Pausable resumed.');
  });
});
