import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { bearer, makeApiKey, makeInstance } from '../helpers/factories.ts';

// Optimistic concurrency on PATCH (RFC 9110 §13.1.1): GET gives the agent's ETag; a PATCH
// with If-Match applies only while the agent still has it, checked under its row lock.
describe('an agent changed with If-Match', async () => {
  const t = await createTestApp({ serve: true });
  const { key } = await makeApiKey(t, 'admin');
  const request = (method: string, path: string, body?: unknown, headers = {}) =>
    t.app.request(t.url(`/api/admin${path}`), {
      method,
      headers: {
        ...bearer(key),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const agent = async () => {
    const instance = await makeInstance(t);
    const res = await request('POST', '/agents', {
      instanceId: instance.id,
      name: `agent-${crypto.randomUUID().slice(0, 8)}`,
      prompt: 'Summarise the inbox.',
      cronExpression: '0 9 * * *',
      timeZone: 'UTC',
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    const read = await request('GET', `/agents/${id}`);
    const etag = read.headers.get('ETag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    return { id, etag };
  };
  const nameOf = async (id: string) =>
    ((await (await request('GET', `/agents/${id}`)).json()) as { name: string }).name;

  it('applies with the current version and answers the new one; a stale or weak one is 412 and changes nothing', async () => {
    const { id, etag } = await agent();
    const ok = await request('PATCH', `/agents/${id}`, { name: 'first' }, { 'If-Match': etag });
    expect(ok.status).toBe(200);
    const next = ok.headers.get('ETag');
    expect(next).not.toBe(etag);
    const stale = await request('PATCH', `/agents/${id}`, { name: 'lost' }, { 'If-Match': etag });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { type: string }).type).toBe('/problems/precondition-failed');
    const weak = await request(
      'PATCH',
      `/agents/${id}`,
      { name: 'weak' },
      { 'If-Match': `W/${next}` },
    );
    expect(weak.status).toBe(412);
    expect(await nameOf(id)).toBe('first');
    // A list, or *, holds too; without If-Match a PATCH applies as before.
    const listed = await request(
      'PATCH',
      `/agents/${id}`,
      { name: 'second' },
      {
        'If-Match': `"nope", ${next}`,
      },
    );
    expect(listed.status).toBe(200);
    expect(
      (await request('PATCH', `/agents/${id}`, { name: 'third' }, { 'If-Match': '*' })).status,
    ).toBe(200);
    expect((await request('PATCH', `/agents/${id}`, { name: 'fourth' })).status).toBe(200);
    expect(await nameOf(id)).toBe('fourth');
  });

  it('lets one of two concurrent changes of the same version through', async () => {
    const { id, etag } = await agent();
    const answers = await Promise.all(
      ['left', 'right'].map((name) =>
        request('PATCH', `/agents/${id}`, { name }, { 'If-Match': etag }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412]);
    const winner = answers.find((a) => a.status === 200);
    if (!winner) throw new Error('no change went through');
    expect(await nameOf(id)).toBe(((await winner.json()) as { name: string }).name);
  });
});
