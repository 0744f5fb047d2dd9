// Our own API document is the contract the product's apps and third-party tools build on:
// real requests and their real answers, validated against `/api/openapi.json` as a
// generated client or a validating proxy would (openapi-backend, ajv with formats). Each
// case names the answers an outside probe found outside the document.
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { instances } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import {
  type ControllerContract,
  type Exchange,
  openApiContract,
} from '../helpers/controller-contract.ts';
import { bearer, makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';
import { ringReconcile, settleRecoveries } from '../helpers/recovery.ts';

describe('the API answers as its OpenAPI document says', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const admin = (await makeApiKey(t, 'admin')).key;
  const platform = (await makeApiKey(t, 'platform')).key;
  let contract: ControllerContract;
  beforeAll(async () => {
    const doc = (await (await t.app.request(t.url('/api/openapi.json'))).json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    // openapi-backend validates by operation id; ours has none yet, so each gets its method
    // and path (a stable operationId per operation is still to come).
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(item))
        operation.operationId ??= `${method} ${path}`;
    contract = await openApiContract(doc, { checkDocument: false });
  });

  /** Sends a request through the app and returns the exchange, checked against the document. */
  async function exchange(
    method: string,
    path: string,
    options: { token: string; headers?: Record<string, string>; body?: unknown },
  ) {
    const res = await t.app.request(t.url(path), {
      method,
      headers: {
        ...bearer(options.token),
        ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    const url = new URL(t.url(path));
    const ex: Exchange = {
      method: method.toLowerCase(),
      // The document's paths are relative to its server, `/api`.
      path: url.pathname.replace(/^\/api/, ''),
      query: Object.fromEntries(url.searchParams),
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...Object.fromEntries(
          Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
        ),
      },
      body: options.body,
      status: res.status,
      response: text ? JSON.parse(text) : undefined,
    };
    const request = contract.checkRequest(ex);
    const response = contract.checkResponse(ex);
    return { ex, request, response };
  }

  const expectValid = (r: Awaited<ReturnType<typeof exchange>>, status: number) => {
    expect(r.ex.status, JSON.stringify(r.ex.response)).toBe(status);
    expect(r.request.operationId, `${r.ex.method} ${r.ex.path} is documented`).not.toBeNull();
    expect(r.request.errors, 'request').toEqual([]);
    expect(r.response.documented, `${r.ex.status} is documented`).not.toBeNull();
    expect(r.response.errors, 'response').toEqual([]);
  };

  it("an instance's status for the product's apps is the object it returns, not a bare string", async () => {
    const [i] = await fleetOf(t, 1);
    const r = await exchange('GET', `/api/platform/instances/${i?.id}/status`, {
      token: platform,
      headers: await ownerOf(i?.id ?? ''),
    });
    expectValid(r, 200);
    expect(r.ex.response).toMatchObject({ status: 'running' });
  });

  it('an instance with no action, and a finished recovery with no failed step, are valid with their nulls', async () => {
    const [i] = await fleetOf(t, 1);
    expectValid(await exchange('GET', `/api/admin/instances/${i?.id}`, { token: admin }), 200);
    await flyFaults(t, { stop_machines: [{ machine_id: i?.machineId }] });
    await ringReconcile(t);
    await settleRecoveries(t);
    const recoveries = await exchange('GET', `/api/admin/recoveries?instanceId=${i?.id}`, {
      token: admin,
    });
    expectValid(recoveries, 200);
    const [recovery] = (recoveries.ex.response as { items: { id: string }[] }).items;
    expect(recovery).toBeDefined();
    expectValid(
      await exchange('GET', `/api/admin/recoveries/${recovery?.id}`, { token: admin }),
      200,
    );
    // The instance again, now with its last action and its recovery.
    expectValid(await exchange('GET', `/api/admin/instances/${i?.id}`, { token: admin }), 200);
  });

  it('an action scheduled without notices answers its notices with settings null, validly', async () => {
    const [i] = await fleetOf(t, 1);
    const created = await exchange('POST', '/api/admin/scheduled-actions', {
      token: admin,
      body: {
        actionType: 'restart',
        instances: { ids: [i?.id] },
        runAt: new Date(Date.now() + 3_600_000).toISOString(),
        reason: 'contract',
        notify: false,
      },
    });
    expectValid(created, 201);
    const id = (created.ex.response as { id: string }).id;
    expectValid(await exchange('GET', `/api/admin/scheduled-actions/${id}`, { token: admin }), 200);
    expectValid(
      await exchange('GET', `/api/admin/scheduled-actions/${id}/notices`, { token: admin }),
      200,
    );
  });

  it("an admin's agent, created with a body the document accepts", async () => {
    const [i] = await fleetOf(t, 1);
    const r = await exchange('POST', '/api/admin/agents', {
      token: admin,
      body: {
        instanceId: i?.id,
        name: 'contract agent',
        prompt: 'Summarise the inbox.',
        cronExpression: '0 9 * * 1-5',
        timeZone: 'UTC',
      },
    });
    expectValid(r, 201);
  });

  /** `Fleetwarden-User` for the instance's owner (a platform-key request acting for them). */
  async function ownerOf(instanceId: string): Promise<Record<string, string>> {
    const [row] = await t.db.db
      .select({ userId: instances.userId })
      .from(instances)
      .where(eq(instances.id, instanceId));
    return { 'Fleetwarden-User': row?.userId ?? '' };
  }
});
