// Conformance of the client's requests and the simulator's responses with Fly's official
// Machines OpenAPI document (2024), kept in test/fixtures/fly/ (source and licence in the
// README there). Validator: openapi-backend, a maintained OpenAPI 3
// router + Ajv validator; it matches a request to its operation by method and path (so a
// request to a path or method the spec lacks fails), validates path, query, headers and
// body, and validates a response body against the schema for its status code.
//
// Where the 2024 document is older than documented behaviour, that one check is skipped or
// narrowed, each with its source (see the notes in /work/notes/fly.md).
import { fileURLToPath } from 'node:url';
import { type Request as OasRequest, OpenAPIBackend, ValidationContext } from 'openapi-backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import {
  agentConfig,
  createFlyHarness,
  type Exchange,
  exerciseEveryMethod,
  recordExchanges,
} from '../helpers/fly.ts';

const SPEC = fileURLToPath(new URL('../fixtures/fly/machines-openapi.yaml', import.meta.url));

/** A compiled Ajv schema (Ajv comes with openapi-backend). */
type Check = ((data: unknown) => boolean) & { errors?: unknown };

/** Query keys newer than the 2024 document. */
const NEWER_QUERY: Record<string, string[]> = {
  // metadata.<key>: docs machines-resource "List Machines"; state, summary: OpenAPI 2025.
  Machines_list: ['state', 'summary'],
  // force_stop: fly-go flaps_machines.go `Restart` sends it on every restart.
  Machines_restart: ['force_stop'],
};

/** Narrows a request to what the 2024 document can judge. */
function requestToCheck(operationId: string, ex: Exchange): OasRequest {
  const query = { ...ex.query };
  for (const key of Object.keys(query)) {
    if (key.startsWith('metadata.') || NEWER_QUERY[operationId]?.includes(key)) delete query[key];
  }
  // state=settled: flyctl PR #4765 (2026) sends it; the 2024 enum predates it.
  if (operationId === 'Machines_wait' && query.state === 'settled') delete query.state;
  let body = ex.requestBody;
  // StopRequest.timeout: docs machines-resource and fly-go send a Go duration string
  // ("30s"); the document's `fly.Duration` object is a swagger artefact.
  if (operationId === 'Machines_stop' && body && typeof body === 'object') {
    const { timeout: _, ...rest } = body as Record<string, unknown>;
    body = rest;
  }
  return { method: ex.method, path: ex.path, query, headers: ex.headers, body };
}

/** Fields the live API sends as null where the document says string. */
function dropNulls(value: unknown): unknown {
  // Volume.attached_machine_id is null when detached: docs volumes-resource examples,
  // fly-go `*string`.
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, dropNulls(v)]),
    );
  return value;
}

describe('fly conformance with the Machines OpenAPI document', () => {
  let api: OpenAPIBackend;
  let errorSchema: Check;
  let leaseSchema: Check;
  let db: TestDatabase | undefined;
  const exchanges: Exchange[] = [];

  beforeAll(async () => {
    api = new OpenAPIBackend({ definition: SPEC, strict: false, validate: true });
    await api.init();
    const ajv = api.validator.getAjv(ValidationContext.Response);
    const schemas = api.document.components?.schemas ?? {};
    errorSchema = ajv.compile({
      ...(schemas.ErrorResponse as object),
      properties: {
        ...(schemas.ErrorResponse as { properties: object }).properties,
        // name_taken: fly-go flaps_error.go; volume_placement_capacity: fly-go
        // flaps_error_test.go. Both newer than the document's two-value enum.
        status: {
          type: 'string',
          enum: ['unknown', 'insufficient_capacity', 'name_taken', 'volume_placement_capacity'],
        },
      },
    });
    leaseSchema = ajv.compile(schemas.Lease as object);
    db = await createTestDatabase();
    const h = await createFlyHarness({ db });
    const rec = recordExchanges(h.fetch, exchanges);
    await exerciseEveryMethod(h, h.newClient({ fetch: rec }), await h.makeApp(), rec);
  });
  afterAll(() => db?.drop());

  it('covers every client method, successes and errors', () => {
    const ops = new Set(
      exchanges.map((ex) => api.router.matchOperation(requestToCheck('', ex))?.operationId),
    );
    expect([...ops].sort()).toEqual(
      [
        'Apps_create',
        'Apps_show',
        'Machines_create',
        'Machines_show',
        'Machines_list',
        'Machines_update',
        'Machines_start',
        'Machines_stop',
        'Machines_restart',
        'Machines_suspend',
        'Machines_delete',
        'Machines_wait',
        'Machines_create_lease',
        'Machines_show_lease',
        'Machines_release_lease',
        'Machines_list_events',
        'Volumes_create',
        'Volumes_get_by_id',
        'Volumes_list',
        'Volume_delete',
        'Volumes_extend',
        'Volumes_list_snapshots',
        'createVolumeSnapshot',
      ].sort(),
    );
    expect(exchanges.some((ex) => ex.status >= 400)).toBe(true);
  });

  it('every request is a documented operation with valid parameters and body', () => {
    for (const ex of exchanges) {
      const operation = api.router.matchOperation(requestToCheck('', ex));
      expect(operation, `${ex.method} ${ex.path}`).toBeTruthy();
      if (!operation) continue;
      const result = api.validator.validateRequest(
        requestToCheck(operation.operationId ?? '', ex),
        operation,
      );
      expect(result.errors ?? [], `${ex.method} ${ex.path}`).toEqual([]);
    }
  });

  it('every response matches the documented schema for its status', () => {
    for (const ex of exchanges) {
      const operation = api.router.matchOperation(requestToCheck('', ex));
      if (!operation) continue;
      const where = `${ex.method} ${ex.path} → ${ex.status}`;
      if (ex.status >= 400) {
        expect(errorSchema(ex.responseBody), `${where} ${JSON.stringify(errorSchema.errors)}`).toBe(
          true,
        );
      } else if (
        operation.operationId === 'Machines_create_lease' ||
        operation.operationId === 'Machines_show_lease'
      ) {
        // 201 and the {status, data} envelope: docs machines-resource "Create a lease"
        // example; fly-go MachineLease. The document models the bare Lease with 200.
        expect(ex.status).toBe(operation.operationId === 'Machines_create_lease' ? 201 : 200);
        expect((ex.responseBody as { status?: string }).status).toBe('success');
        expect(leaseSchema((ex.responseBody as { data?: unknown }).data), where).toBe(true);
      } else {
        const result = api.validator.validateResponse(
          dropNulls(ex.responseBody),
          operation,
          ex.status,
        );
        expect(result.errors ?? [], where).toEqual([]);
      }
    }
  });

  it('a deliberately wrong machine body fails validation (the check has teeth)', () => {
    const operation = api.router.matchOperation({
      method: 'get',
      path: '/apps/a/machines/m',
      headers: {},
    });
    const result = api.validator.validateResponse(
      { id: 42, config: agentConfig(undefined, { mounts: 'x' }) },
      operation as never,
      200,
    );
    expect(result.valid).toBe(false);
  });
});
