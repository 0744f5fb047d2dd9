import { describe, expect, it } from 'vitest';
import { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

const rejection = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FlyApiError);
  return error as FlyApiError;
};

describe('fly simulator: machine lifecycle through the client', async () => {
  const h = await createFlyHarness();
  const { client } = h;

  it('gets an app and 404s an unknown one', async () => {
    const app = await h.makeApp();
    expect(await client.getApp(app)).toMatchObject({
      name: app,
      organization: { slug: 'personal' },
    });
    const error = await rejection(client.getApp('no-such-app'));
    expect(error).toMatchObject({ status: 404, code: 'not_found', message: 'app not found' });
  });

  it('creates a machine that boots: created, then started, with Fly-shaped ids and events', async () => {
    const app = await h.makeApp();
    const created = await client.createMachine(app, { config: agentConfig(), region: 'ams' });
    expect(created.state).toBe('created');
    expect(created.id).toMatch(/^[0-9a-f]{14}$/);
    expect(created.instance_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(created.region).toBe('ams');
    expect(created.config?.image).toBe('registry.fly.io/agent:v1.0.0');
    expect(created.config?.metadata?.fleetwarden_request_id).toMatch(/^[0-9a-z]{20}$/);
    expect(created.image_ref).toMatchObject({
      registry: 'registry.fly.io',
      repository: 'agent',
      tag: 'v1.0.0',
    });
    expect(created.host_status).toBe('ok');

    await client.waitMachine(app, created.id, { state: 'started', timeoutSeconds: 60 });
    const started = await client.getMachine(app, created.id);
    expect(started.state).toBe('started');
    expect(started.events?.map((e) => `${e.type}/${e.status}/${e.source}`)).toEqual([
      'start/started/flyd',
      'launch/created/user',
    ]);
    expect(typeof started.events?.[0]?.timestamp).toBe('number');
  });

  it('creates without launching when skip_launch, then starts on request', async () => {
    const app = await h.makeApp();
    const m = await client.createMachine(app, { config: agentConfig(), skip_launch: true });
    expect(m.region).toBe('iad');
    expect((await client.getMachine(app, m.id)).state).toBe('created');
    expect(await client.startMachine(app, m.id)).toEqual({
      previous_state: 'created',
      migrated: false,
      new_host: '',
    });
    expect((await client.getMachine(app, m.id)).state).toBe('starting');
    await client.waitMachine(app, m.id, { state: 'started' });
  });

  it('stops, starts, suspends, restarts, with the documented events', async () => {
    const app = await h.makeApp();
    const m = await client.createMachine(app, { config: agentConfig() });
    await client.waitMachine(app, m.id, { state: 'started' });

    await client.stopMachine(app, m.id, { signal: 'SIGTERM', timeout: '10s' });
    expect((await client.getMachine(app, m.id)).state).toBe('stopping');
    await client.waitMachine(app, m.id, { state: 'stopped', instanceId: m.instance_id });
    const [exit] = await client.listMachineEvents(app, m.id);
    expect(exit).toMatchObject({ type: 'exit', status: 'stopped', source: 'flyd' });
    expect(exit?.request).toMatchObject({ exit_event: { requested_stop: true } });

    expect(await client.startMachine(app, m.id)).toMatchObject({ previous_state: 'stopped' });
    await client.waitMachine(app, m.id, { state: 'started' });

    await client.suspendMachine(app, m.id);
    await client.waitMachine(app, m.id, { state: 'suspended' });

    await client.restartMachine(app, m.id, { forceStop: false, timeout: '5s' });
    expect((await client.getMachine(app, m.id)).state).toBe('restarting');
    await client.waitMachine(app, m.id, { state: 'started' });

    const types = (await client.listMachineEvents(app, m.id)).map((e) => `${e.type}/${e.status}`);
    expect(types.slice(0, 4)).toEqual([
      'start/started',
      'restart/restarting',
      'suspend/suspended',
      'suspend/suspending',
    ]);
  });

  it('refuses to start a machine that is still stopping, and to suspend a stopped one', async () => {
    const app = await h.makeApp();
    const m = await client.createMachine(app, { config: agentConfig() });
    await client.waitMachine(app, m.id, { state: 'started' });
    await client.stopMachine(app, m.id);
    const early = await rejection(client.startMachine(app, m.id));
    expect(early).toMatchObject({ status: 412, code: 'failed_precondition' });
    expect(early.message).toBe('failed_precondition: machine still active, refusing to start');
    await client.waitMachine(app, m.id, { state: 'stopped', instanceId: m.instance_id });
    const suspend = await rejection(client.suspendMachine(app, m.id));
    expect(suspend.message).toBe(
      "failed_precondition: unable to suspend machine from current state: 'stopped'",
    );
  });

  it('update makes a new version: new instance_id, the old one reads as replaced', async () => {
    const app = await h.makeApp();
    const m = await client.createMachine(app, { config: agentConfig() });
    await client.waitMachine(app, m.id, { state: 'started' });
    const config = { ...(m.config ?? agentConfig()), image: 'registry.fly.io/agent:v1.1.0' };
    const updated = await client.updateMachine(app, m.id, {
      config,
      current_version: m.instance_id,
    });
    expect(updated.instance_id).not.toBe(m.instance_id);
    expect(updated.state).toBe('replacing');
    expect(updated.config?.image).toBe('registry.fly.io/agent:v1.1.0');
    expect(
      await client.waitMachine(app, m.id, {
        state: 'settled',
        instanceId: m.instance_id,
        timeoutSeconds: 1,
      }),
    ).toEqual({
      ok: true,
      state: 'replaced',
    });
    await client.waitMachine(app, m.id, { state: 'started', instanceId: updated.instance_id });
    expect(await client.getMachine(app, m.id)).toMatchObject({
      state: 'started',
      instance_id: updated.instance_id,
    });

    const stale = await rejection(
      client.updateMachine(app, m.id, { config, current_version: m.instance_id }),
    );
    expect(stale).toMatchObject({ status: 409, code: 'aborted' });
    const moved = await rejection(client.updateMachine(app, m.id, { config, region: 'syd' }));
    expect(moved).toMatchObject({ status: 400, code: 'invalid_argument' });
  });

  it('an update of a stopped machine leaves the new version stopped', async () => {
    const app = await h.makeApp();
    const m = await client.createMachine(app, { config: agentConfig(), skip_launch: true });
    await client.startMachine(app, m.id);
    await client.waitMachine(app, m.id, { state: 'started' });
    await client.stopMachine(app, m.id);
    await client.waitMachine(app, m.id, { state: 'stopped', instanceId: m.instance_id });
    const updated = await client.updateMachine(app, m.id, {
      config: agentConfig('registry.fly.io/agent:v2'),
    });
    expect(updated.state).toBe('updating');
    await client.waitMachine(app, m.id, { state: 'stopped', instanceId: updated.instance_id });
  });

  it('delete: 412 while running, ok once stopped or forced; destroyed machines leave the list', async () => {
    const app = await h.makeApp();
    const a = await client.createMachine(app, { config: agentConfig() });
    const b = await client.createMachine(app, { config: agentConfig() });
    await client.waitMachine(app, a.id, { state: 'started' });
    const refused = await rejection(client.deleteMachine(app, a.id));
    expect(refused).toMatchObject({ status: 412, code: 'failed_precondition' });
    expect(refused.body).toEqual({
      error:
        'failed_precondition: unable to destroy machine, not currently stopped, suspended, failed or created',
    });
    await client.deleteMachine(app, a.id, { force: true });
    await client.waitMachine(app, a.id, { state: 'destroyed' });
    expect((await client.listMachines(app)).map((m) => m.id)).toEqual([b.id]);
    const all = await client.listMachines(app, { includeDeleted: true });
    expect(all.find((m) => m.id === a.id)?.state).toBe('destroyed');
    expect(all.map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
    expect(await rejection(client.deleteMachine(app, a.id))).toMatchObject({ status: 404 });
  });

  it('lists with metadata, region, state and summary filters', async () => {
    const app = await h.makeApp();
    const tagged = await client.createMachine(app, {
      config: agentConfig(undefined, { metadata: { instance: 'alpha', team: 'x' } }),
      region: 'fra',
      skip_launch: true,
    });
    await client.createMachine(app, {
      config: agentConfig(undefined, { metadata: { instance: 'beta' } }),
      region: 'ams',
    });
    const byMeta = await client.listMachines(app, { metadata: { instance: 'alpha', team: 'x' } });
    expect(byMeta.map((m) => m.id)).toEqual([tagged.id]);
    expect((await client.listMachines(app, { region: 'fra' })).map((m) => m.id)).toEqual([
      tagged.id,
    ]);
    expect((await client.listMachines(app, { state: ['created'] })).map((m) => m.id)).toEqual([
      tagged.id,
    ]);
    const [summary] = await client.listMachines(app, { summary: true, region: 'fra' });
    expect(summary?.config).toBeUndefined();
    expect(summary?.events).toBeUndefined();
    expect(summary?.instance_id).toBe(tagged.instance_id);
  });

  it('answers unknown machines, duplicate names and bad configs as Fly does', async () => {
    const app = await h.makeApp();
    const missing = await h.call('GET', `/v1/apps/${app}/machines/0123456789abcd`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found: machine not found' });
    await client.createMachine(app, { config: agentConfig(), name: 'agent-one' });
    const clash = await rejection(
      client.createMachine(app, { config: agentConfig(), name: 'agent-one' }),
    );
    expect(clash).toMatchObject({ status: 409, code: 'already_exists' });
    const bad = await h.call('POST', `/v1/apps/${app}/machines`, { config: { env: {} } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_argument: config.image is required' });
  });

  it('needs a bearer token, and the configured one', async () => {
    const app = await h.makeApp();
    for (const headers of [{ Authorization: '' }, { Authorization: 'Bearer wrong' }]) {
      const res = await h.call('GET', `/v1/apps/${app}/machines`, undefined, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'Authenticate: token validation error' });
    }
    const error = await rejection(h.newClient({ token: 'nope' }).listMachines(app));
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated' });
  });
});
