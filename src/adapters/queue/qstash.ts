import { Client, QstashError, Receiver } from '@upstash/qstash';
import { decode } from 'hono/jwt';
import { pathSegment, QSTASH_DLQ_ID, QSTASH_MESSAGE_ID } from '../outside-ids.ts';
import type { DoorbellConsole, Doorbells, Ring } from './doorbells.ts';

export type QStashSettings = {
  /** QStash API base (`https://qstash.upstash.io`, or the emulator's `<public url>/__dev/qstash`). */
  baseUrl: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  /** Origin callbacks are delivered to, without a trailing slash. */
  publicUrl: string;
  /** Delivery retries per doorbell (QStash's default is 3). */
  retries?: number;
  /** The app's clock: a doorbell due now or earlier is sent without a delay. */
  now?: () => Date;
};

const ms = (v: number | undefined | null) => (v ? new Date(v) : null);

/**
 * Doorbells on QStash through the official SDK (`Client.publishJSON` with
 * `Upstash-Not-Before` in Unix seconds, rounded up so a doorbell never rings early).
 * Source: upstash/docs `qstash/features/delay.mdx`, `qstash/api/publish`.
 */
export function createQStashDoorbells(settings: QStashSettings): {
  doorbells: Doorbells;
  console: DoorbellConsole;
} {
  const client = new Client({
    baseUrl: settings.baseUrl,
    token: settings.token,
    enableTelemetry: false,
    devMode: false,
  });
  const retries = settings.retries ?? 5;
  const now = settings.now ?? (() => new Date());
  const request = (item: Ring) => ({
    url: `${settings.publicUrl}${item.path}`,
    body: item.body,
    retries,
    // Not-Before has second precision, so it is rounded up (never early); a doorbell due
    // now or in the past goes without one and is delivered at once.
    ...(item.notBefore && item.notBefore.getTime() > now().getTime()
      ? { notBefore: Math.ceil(item.notBefore.getTime() / 1000) }
      : {}),
    ...(item.deduplicationId ? { deduplicationId: item.deduplicationId } : {}),
  });

  const doorbells: Doorbells = {
    async ring(item) {
      const res = await client.publishJSON(request(item));
      return res.messageId;
    },
    async ringMany(items) {
      if (items.length === 0) return [];
      const res = await client.batchJSON(items.map(request));
      return res.map((r) => ('messageId' in r ? r.messageId : ''));
    },
    async cancel(messageId) {
      // The SDK puts ids into the path unencoded: only the known shape goes (outside-ids.ts).
      pathSegment(messageId, 'QStash message id', QSTASH_MESSAGE_ID);
      try {
        await client.messages.cancel(messageId);
      } catch (err) {
        // Already delivered or cancelled: nothing left to stop.
        if (!(err instanceof QstashError && err.status === 404)) throw err;
      }
    },
    async upsertSchedule(s) {
      await client.schedules.create({
        scheduleId: s.id,
        destination: `${settings.publicUrl}${s.path}`,
        cron: s.cron,
        body: JSON.stringify(s.body ?? {}),
        headers: { 'Content-Type': 'application/json' },
        retries: 0,
      });
    },
  };

  const console: DoorbellConsole = {
    async recentEvents(count) {
      const res = await client.logs({ count });
      return res.logs.map((e) => ({
        messageId: e.messageId,
        url: e.url,
        state: e.state,
        time: new Date(e.time),
        nextDeliveryTime: ms(e.nextDeliveryTime),
        responseStatus: (e as { responseStatus?: number }).responseStatus ?? null,
        error: e.error ?? null,
      }));
    },
    async deadLetters() {
      const res = await client.dlq.listMessages({ count: 100 });
      return res.messages.map((m) => ({
        dlqId: m.dlqId,
        messageId: m.messageId,
        url: m.url,
        createdAt: new Date(m.createdAt),
        responseStatus: m.responseStatus ?? null,
        responseBody: m.responseBody ?? null,
        body: m.body ?? null,
      }));
    },
    async retryDeadLetter(dlqId) {
      pathSegment(dlqId, 'QStash DLQ id', QSTASH_DLQ_ID);
      const res = await client.dlq.retry(dlqId);
      return res.responses[0]?.messageId ?? '';
    },
    async deleteDeadLetter(dlqId) {
      // The SDK puts the id into the path unencoded (`DELETE /v2/dlq/<id>`): an id such as
      // `../schedules/x` would delete a schedule. Only the known shape goes.
      pathSegment(dlqId, 'QStash DLQ id', QSTASH_DLQ_ID);
      await client.dlq.delete(dlqId);
    },
    async schedules() {
      const list = await client.schedules.list();
      return list.map((s) => ({
        scheduleId: s.scheduleId,
        cron: s.cron,
        destination: s.destination,
        isPaused: s.isPaused,
        lastScheduleTime: ms(s.lastScheduleTime),
        nextScheduleTime: ms(s.nextScheduleTime),
      }));
    },
  };

  return { doorbells, console };
}

export type SignatureVerifier = {
  /**
   * Checks an `Upstash-Signature` JWT against the raw body and the exact callback URL,
   * trying the current then the next signing key (the official `Receiver`), then that its
   * `iat`/`nbf`/`exp` are present and within QStash's 5-minute lifetime. Resolves false on
   * any failure instead of throwing.
   */
  verify(input: { signature: string; body: string; url: string }): Promise<boolean>;
};

/** Clock skew tolerated on `nbf`/`iat`/`exp`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** QStash signs each delivery for 5 minutes (`exp` = `iat` + 300; docs `qstash/features/security`). */
const MAX_LIFETIME_SECONDS = 300;

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Whether a verified token's times are the ones QStash sets: `iat` and `nbf` present and
 * not in the future, `exp` present, at most {@link MAX_LIFETIME_SECONDS} after `iat` and
 * from now. The Receiver (jose) checks `exp` and `nbf` only when present, so a token with
 * no `exp`, or one valid until 2100, would otherwise be replayable for ever. `now` is Unix
 * seconds of the wall clock (the claims are, too).
 */
export function hasFreshClaims(payload: Record<string, unknown>, now: number): boolean {
  const { iat, nbf, exp } = payload;
  if (!isTime(iat) || !isTime(nbf) || !isTime(exp)) return false;
  const skew = CLOCK_TOLERANCE_SECONDS;
  return (
    iat <= now + skew &&
    nbf <= now + skew &&
    exp >= now - skew &&
    exp - iat <= MAX_LIFETIME_SECONDS &&
    exp <= now + MAX_LIFETIME_SECONDS + skew
  );
}

export function createSignatureVerifier(keys: {
  currentSigningKey: string;
  nextSigningKey: string;
}): SignatureVerifier {
  const receiver = new Receiver(keys);
  return {
    async verify(input) {
      try {
        if (!(await receiver.verify({ ...input, clockTolerance: CLOCK_TOLERANCE_SECONDS })))
          return false;
        // Verified, so decoding (hono/jwt, no second signature check) reads trusted claims.
        const { payload } = decode(input.signature);
        return hasFreshClaims(payload as Record<string, unknown>, Date.now() / 1000);
      } catch {
        return false;
      }
    },
  };
}
