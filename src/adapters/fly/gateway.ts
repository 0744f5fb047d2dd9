/** Which machine to probe; `instanceId`, when given, is the version expected to answer. */
export type ProbeInput = { appName: string; machineId: string; instanceId?: string };

/**
 * `healthy` only for a 2xx from the expected version. `status` is the HTTP status (0: no
 * response); `detail` says why in words; `instanceId` is the version that answered, when
 * the body names one.
 */
export type ProbeResult = { healthy: boolean; status: number; detail: string; instanceId?: string };

/** Reaches one machine's health endpoint through the app's public edge. */
export type Gateway = { probe(input: ProbeInput): Promise<ProbeResult> };

/** Production URL: the app's Fly proxy hostname (https://fly.io/docs/networking/services/). */
export const flyDevHealthUrl = ({ appName }: { appName: string; machineId: string }) =>
  `https://${appName}.fly.dev/healthz`;

/**
 * A {@link Gateway} over HTTP. Each probe is a GET to `urlFor(input)` carrying
 * `fly-force-instance-id: <machineId>`, which makes Fly's proxy route to that one machine
 * (https://fly.io/docs/blueprints/sticky-sessions/). A probe never throws: a
 * timeout (`timeoutMs`, default 5,000 ms), a network error, a non-2xx answer, or a body
 * naming another `instance_id` than `input.instanceId` are all unhealthy, with the reason
 * in `detail`.
 */
export function createHttpGateway(options: {
  urlFor: (target: { appName: string; machineId: string }) => string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}): Gateway {
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    async probe(input) {
      let res: Response;
      try {
        res = await fetchFn(options.urlFor(input), {
          headers: { 'fly-force-instance-id': input.machineId, Accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        return {
          healthy: false,
          status: 0,
          detail: timedOut ? `timed out after ${timeoutMs} ms` : `unreachable: ${String(error)}`,
        };
      }
      const text = await res.text().catch(() => '');
      const body = parseObject(text);
      const instanceId = typeof body?.instance_id === 'string' ? body.instance_id : undefined;
      const base = { status: res.status, ...(instanceId ? { instanceId } : {}) };
      if (!res.ok) {
        const reason = typeof body?.reason === 'string' ? body.reason : text.slice(0, 200);
        return { ...base, healthy: false, detail: `HTTP ${res.status}: ${reason}` };
      }
      if (input.instanceId && instanceId !== input.instanceId)
        return {
          ...base,
          healthy: false,
          detail: `answered as version ${instanceId ?? 'unknown'}, expected ${input.instanceId}`,
        };
      return { ...base, healthy: true, detail: `HTTP ${res.status}` };
    },
  };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
