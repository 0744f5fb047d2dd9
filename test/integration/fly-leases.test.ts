import { describe, expect, it } from 'vitest';
import type { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

describe('fly simulator: leases', async () => {
  // No fixed token: two clients with different tokens are two lease owners.
  const h = await createFlyHarness({ sim: { token: undefined } });
  const app = await h.makeApp();
  const other = h.newClient({ token: 'someone-else' });
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: FlyApiError) => e,
    );

  it('acquires with 201 and the documented envelope', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    const res = await h.call('POST', `/v1/apps/${app}/machines/${m.id}/lease`, {
      ttl: 30,
      description: 'deploy',
    });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toEqual({
      status: 'success',
      data: {
        nonce: expect.stringMatching(/^[0-9a-f]{12}$/),
        expires_at: Math.floor(h.clock.now() / 1000) + 30,
        owner: expect.stringMatching(/@tokens\.fly\.io$/),
        description: 'deploy',
        version: m.instance_id,
      },
    });
    const get = await h.call('GET', `/v1/apps/${app}/machines/${m.id}/lease`);
    expect(await get.json()).toEqual(body);
  });

  it('answers 409 aborted naming the holder while another owner holds it; ttl also from ?ttl=', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    const lease = await h.client.acquireLease(app, m.id, { ttlSeconds: 60 });
    const error = await fail(other.acquireLease(app, m.id, { ttlSeconds: 60 }));
    expect(error).toMatchObject({ status: 409, code: 'aborted' });
    const expires = new Date(lease.data.expires_at * 1000).toISOString().replace('.000Z', 'Z');
    expect(error?.message).toBe(
      `aborted: machine ID ${m.id} lease currently held by ${lease.data.owner}, expires at ${expires}`,
    );
    // fly-go sends no body and ?ttl=; once the lease expires anyone may take it.
    h.clock.advance(61_000);
    const res = await h.call('POST', `/v1/apps/${app}/machines/${m.id}/lease?ttl=5`, undefined, {
      Authorization: 'Bearer someone-else',
    });
    expect(res.status).toBe(201);
  });

  it('refreshes with the nonce header, keeping the nonce', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    const first = await h.client.acquireLease(app, m.id, { ttlSeconds: 10 });
    h.clock.advance(5_000);
    const again = await h.client.acquireLease(app, m.id, {
      ttlSeconds: 10,
      nonce: first.data.nonce,
    });
    expect(again.data.nonce).toBe(first.data.nonce);
    expect(again.data.expires_at).toBe(first.data.expires_at + 5);
  });

  it('mutations need the nonce while leased: 409 without, accepted with it', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    await h.client.waitMachine(app, m.id, { state: 'started' });
    const { data } = await other.acquireLease(app, m.id, { ttlSeconds: 60 });
    for (const call of [
      () => h.client.stopMachine(app, m.id),
      () => h.client.updateMachine(app, m.id, { config: agentConfig('registry.fly.io/agent:v2') }),
      () => h.client.deleteMachine(app, m.id, { force: true }),
      () => h.client.restartMachine(app, m.id),
    ]) {
      const error = await fail(call());
      expect(error).toMatchObject({ status: 409, code: 'aborted' });
      expect(error?.message).toContain('lease currently held by');
    }
    const updated = await h.client.updateMachine(
      app,
      m.id,
      { config: agentConfig('registry.fly.io/agent:v2') },
      { nonce: data.nonce },
    );
    expect(updated.config?.image).toBe('registry.fly.io/agent:v2');
  });

  it('releases with the nonce; a wrong or missing nonce is 400, no lease is 404', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    const { data } = await h.client.acquireLease(app, m.id, { ttlSeconds: 60 });
    expect(await fail(h.client.releaseLease(app, m.id, 'ffffffffffff'))).toMatchObject({
      status: 400,
    });
    const missing = await h.call('DELETE', `/v1/apps/${app}/machines/${m.id}/lease`);
    expect(missing.status).toBe(400);
    const res = await h.call('DELETE', `/v1/apps/${app}/machines/${m.id}/lease`, undefined, {
      'fly-machine-lease-nonce': data.nonce,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'success', data: { ok: true } });
    expect(await fail(h.client.releaseLease(app, m.id, data.nonce))).toMatchObject({ status: 404 });
    await h.client.stopMachine(app, m.id);
  });

  it('create with lease_ttl answers the nonce and holds the lease', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig(), lease_ttl: 30 });
    expect(m.nonce).toMatch(/^[0-9a-f]{12}$/);
    expect(await fail(h.client.stopMachine(app, m.id))).toMatchObject({ status: 409 });
    await h.client.releaseLease(app, m.id, m.nonce as string);
  });
});
