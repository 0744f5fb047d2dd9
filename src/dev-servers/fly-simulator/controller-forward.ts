// Embedded mode with a real instance controller (FLY_SIMULATOR_CONTROLLER_URL): the
// simulator still plays Fly's proxy and the machine (a stopped machine is 503, the
// machine's own token is checked), then hands the call to the real controller, as Fly's
// proxy would hand it to the machine. Faults for controller endpoints do not apply here.
import type { Context } from 'hono';

/** How long the real controller may take before the caller gets a 502 (as from Fly's proxy). */
const FORWARD_TIMEOUT_MS = 30_000;
const PASSED_HEADERS = ['content-type', 'idempotency-key', 'fly-force-instance-id'];

/**
 * Sends the request under `/_controller/…` to `real.url` with `real.token` as its bearer
 * token and answers what the controller answers (status and body unchanged); 502
 * `unavailable` when it does not answer.
 */
export async function forwardToController(
  real: { url: string; token: string },
  c: Context,
): Promise<Response> {
  const url = new URL(c.req.url);
  const path = url.pathname.slice(url.pathname.indexOf('/_controller/'));
  const headers = new Headers({
    Authorization: `Bearer ${real.token}`,
    Accept: 'application/json',
  });
  for (const name of PASSED_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  try {
    const res = await fetch(`${real.url.replace(/\/+$/, '')}${path}${url.search}`, {
      method: c.req.method,
      headers,
      body: c.req.method === 'GET' ? undefined : await c.req.text(),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    return new Response(await res.text(), {
      status: res.status,
      headers: { 'Content-Type': res.headers.get('content-type') ?? 'application/json' },
    });
  } catch (error) {
    return c.json(
      {
        error: 'unavailable',
        message: `the instance controller at ${real.url} did not answer: ${String(error)}`,
      },
      502,
    );
  }
}
