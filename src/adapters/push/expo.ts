import { parseRetryAfter } from '../../lib/backoff.ts';
import type { RequestLimiter } from '../../lib/request-limiter.ts';
import type { Pusher, PushMessage, PushReceipt, PushTicket } from './pusher.ts';

/** Expo accepts at most 100 messages per send request (docs.expo.dev/push-notifications/sending-notifications). */
export const EXPO_MAX_BATCH = 100;

/** A ticket or receipt as Expo writes it. */
type ExpoResult =
  | { status: 'ok'; id?: string }
  | { status: 'error'; message: string; details?: { error?: string } };

/** Ticket errors that sending again cannot fix (the rest, e.g. MessageRateExceeded, can). */
const PERMANENT = new Set(['DeviceNotRegistered', 'InvalidCredentials', 'MessageTooBig']);

/**
 * Push through the Expo push service's HTTP API (docs.expo.dev/push-notifications/
 * sending-notifications): `POST /--/api/v2/push/send` with up to 100 messages answers one
 * ticket per message; `POST /--/api/v2/push/getReceipts` later says whether each reached
 * Apple or Google. `DeviceNotRegistered` (in a ticket or a receipt) means the token is
 * dead. Request-level errors (`{ errors: [...] }`, 429, 5xx) apply to every message.
 * Expo has no idempotency key, so a retry after an unknown answer (timeout, 5xx, a crash
 * mid-request) may repeat a push.
 */
export function createExpoPusher(options: {
  /** Optional: Expo's "enhanced security" access token. */
  accessToken?: string | null;
  /** Default `https://exp.host`; tests point it at a local fake. */
  baseUrl?: string;
  limiter: RequestLimiter;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => Date;
}): Pusher {
  const base = (options.baseUrl ?? 'https://exp.host').replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const post = (path: string, body: unknown) =>
    doFetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...(options.accessToken ? { Authorization: `Bearer ${options.accessToken}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  const all = (messages: PushMessage[], ticket: PushTicket) =>
    new Map(messages.map((m) => [m.id, ticket]));
  return {
    maxBatch: EXPO_MAX_BATCH,
    limiter: options.limiter,
    async sendBatch(messages: PushMessage[]) {
      let res: Response;
      try {
        res = await post(
          '/--/api/v2/push/send',
          messages.map((m) => ({ to: m.to, title: m.title, body: m.body, data: m.data })),
        );
      } catch (err) {
        const reason = `push request's answer unknown: ${err instanceof Error ? err.message : String(err)}`;
        return all(messages, { status: 'unknown', reason, retryAfterMs: null });
      }
      const json = (await res.json().catch(() => null)) as {
        data?: ExpoResult[];
        errors?: { code: string; message: string }[];
      } | null;
      if (!res.ok || !json?.data) {
        const error = json?.errors?.[0];
        const reason = `Expo ${res.status}${error ? ` ${error.code}: ${error.message}` : ''}`;
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
        if (res.status >= 500 || res.ok)
          return all(messages, {
            status: 'unknown',
            reason: `answer unknown: ${reason}`,
            retryAfterMs,
          });
        return all(messages, {
          status: 'refused',
          permanent: res.status !== 429,
          reason,
          deviceNotRegistered: false,
          retryAfterMs: res.status === 429 ? retryAfterMs : null,
        });
      }
      // Expo answers one ticket per message in the request's order (matched to our ids here,
      // against the request we built); a count that does not match is not trusted.
      const data = json.data;
      if (data.length !== messages.length)
        return all(messages, {
          status: 'unknown',
          reason: `Expo answered ${data.length} tickets for ${messages.length} messages`,
          retryAfterMs: null,
        });
      return new Map(
        messages.map((m, i): [string, PushTicket] => {
          const t = data[i];
          if (t?.status === 'ok' && t.id) return [m.id, { status: 'sent', ticketId: t.id }];
          if (!t || t.status === 'ok')
            return [
              m.id,
              { status: 'unknown', reason: 'Expo returned no ticket id', retryAfterMs: null },
            ];
          const code = t.details?.error ?? 'error';
          return [
            m.id,
            {
              status: 'refused',
              permanent: PERMANENT.has(code),
              reason: `Expo ${code}: ${t.message}`,
              deviceNotRegistered: code === 'DeviceNotRegistered',
              retryAfterMs: null,
            },
          ];
        }),
      );
    },
    async getReceipts(ticketIds: string[]) {
      if (!ticketIds.length) return {};
      const res = await post('/--/api/v2/push/getReceipts', { ids: ticketIds });
      if (!res.ok) throw new Error(`Expo getReceipts answered ${res.status}`);
      const json = (await res.json()) as { data?: Record<string, ExpoResult> };
      const out: Record<string, PushReceipt> = {};
      for (const [id, r] of Object.entries(json.data ?? {}))
        out[id] =
          r.status === 'ok'
            ? { ok: true }
            : {
                ok: false,
                reason: `Expo ${r.details?.error ?? 'error'}: ${r.message}`,
                deviceNotRegistered: r.details?.error === 'DeviceNotRegistered',
              };
      return out;
    },
  };
}
