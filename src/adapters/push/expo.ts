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
 * Expo has no idempotency key, so a retry after a crash mid-request may repeat a push.
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
  const all = (n: number, ticket: PushTicket) => Array.from({ length: n }, () => ticket);
  const transient = (reason: string, retryAfterMs: number | null): PushTicket => ({
    ok: false,
    permanent: false,
    reason,
    deviceNotRegistered: false,
    retryAfterMs,
  });
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
        const reason = `push request failed: ${err instanceof Error ? err.message : String(err)}`;
        return all(messages.length, transient(reason, null));
      }
      const json = (await res.json().catch(() => null)) as {
        data?: ExpoResult[];
        errors?: { code: string; message: string }[];
      } | null;
      if (!res.ok || !json?.data) {
        const error = json?.errors?.[0];
        const reason = `Expo ${res.status}${error ? ` ${error.code}: ${error.message}` : ''}`;
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
        if (res.status === 429 || res.status >= 500)
          return all(messages.length, transient(reason, retryAfterMs));
        return all(messages.length, {
          ok: false,
          permanent: true,
          reason,
          deviceNotRegistered: false,
          retryAfterMs: null,
        });
      }
      return messages.map((_, i): PushTicket => {
        const t = json.data?.[i];
        if (t?.status === 'ok' && t.id) return { ok: true, ticketId: t.id };
        if (!t || t.status === 'ok') return transient('Expo returned no ticket', null);
        const code = t.details?.error ?? 'error';
        return {
          ok: false,
          permanent: PERMANENT.has(code),
          reason: `Expo ${code}: ${t.message}`,
          deviceNotRegistered: code === 'DeviceNotRegistered',
          retryAfterMs: null,
        };
      });
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
