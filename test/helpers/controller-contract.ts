// Our instance-controller contract, docs/controller-openapi.yaml, as a validator for tests
// of any controller (the Fly simulator's, the reference controller in controller/):
// openapi-backend routes each recorded request to its operation (an undocumented path or
// method fails), validates parameters, headers and body, and validates each answer's body
// against the schema documented for its status.
import { fileURLToPath } from 'node:url';
import addFormats from 'ajv-formats';
import { type Request as OasRequest, OpenAPIBackend } from 'openapi-backend';

const SPEC = fileURLToPath(new URL('../../docs/controller-openapi.yaml', import.meta.url));

/** One request and its answer, as the contract sees them (path without the app's prefix). */
export type Exchange = {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
  response: unknown;
};

const parse = (text: string) => (text ? JSON.parse(text) : undefined);

/**
 * A fetch that sends each request through `send` and pushes the exchange onto `exchanges`,
 * its path stripped of `prefix` (the simulator's `/gateway/<app>`; '' for a real controller).
 */
export function recordingFetch(
  send: (request: Request) => Promise<Response>,
  prefix: string,
  exchanges: Exchange[],
): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'GET' ? '' : await request.clone().text();
    const res = await send(request);
    const url = new URL(request.url);
    exchanges.push({
      method: request.method.toLowerCase(),
      path: url.pathname.slice(prefix.length),
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      body: parse(body),
      status: res.status,
      response: parse(await res.clone().text()),
    });
    return res;
  };
}

/** The contract's validator (strict; timestamps checked as RFC 3339 date-times). */
export function controllerContract() {
  return openApiContract(SPEC);
}

/**
 * A validator for any OpenAPI 3 document (a file path, or the document itself, e.g. our
 * API's `/api/openapi.json`): the request's operation, its parameters and body, and each
 * answer against the schema documented for its status.
 */
export async function openApiContract(
  definition: string | Record<string, unknown>,
  options: { checkDocument?: boolean } = {},
) {
  const api = new OpenAPIBackend({
    // biome-ignore lint/suspicious/noExplicitAny: openapi-backend's Document type is narrower than a parsed JSON document
    definition: definition as any,
    // Its document check knows OpenAPI 3.0 only; our API's document is 3.1 (linted apart).
    strict: options.checkDocument ?? true,
    quick: options.checkDocument === false,
    validate: true,
    customizeAjv: (ajv) => addFormats(ajv),
  });
  await api.init();
  const requestOf = (ex: Exchange): OasRequest => ({
    method: ex.method,
    path: ex.path,
    query: ex.query,
    headers: ex.headers,
    body: ex.body,
  });
  return {
    api,
    /** The documented operation the request is (null: none) and what is wrong with it. */
    checkRequest(ex: Exchange): { operationId: string | null; errors: unknown[] } {
      const operation = api.router.matchOperation(requestOf(ex));
      if (!operation) return { operationId: null, errors: [] };
      const result = api.validator.validateRequest(requestOf(ex), operation);
      return { operationId: operation.operationId ?? '', errors: result.errors ?? [] };
    },
    /**
     * The response key its status is documented under (`'201'`, or `'5XX'` for a range; null:
     * undocumented) and what is wrong with its body.
     */
    checkResponse(ex: Exchange): { documented: string | null; errors: unknown[] } {
      const operation = api.router.matchOperation(requestOf(ex));
      if (!operation) return { documented: null, errors: [] };
      const keys = Object.keys(operation.responses ?? {});
      const key = keys.includes(String(ex.status))
        ? String(ex.status)
        : `${String(ex.status)[0]}XX`;
      const result = api.validator.validateResponse(ex.response, operation, ex.status);
      return { documented: keys.includes(key) ? key : null, errors: result.errors ?? [] };
    },
  };
}

export type ControllerContract = Awaited<ReturnType<typeof openApiContract>>;
