import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// Local fakes of the Resend and Expo push HTTP APIs, speaking their documented request and
// response shapes (error bodies included), so the real adapters are exercised over HTTP.
// Sources: resend.com/docs/api-reference/emails/send-batch-emails, …/errors,
// …/introduction#idempotency-keys; docs.expo.dev/push-notifications/sending-notifications.

/**
 * A fault for the next request: answer `status`/`body` instead of the real answer. With
 * `after`, the request is processed first (emails sent, the idempotency key remembered) and
 * the fault answers in place of the real answer: a 5xx that follows the effect. `holdMs`
 * holds the answer that long first (a client timeout shorter than it loses the answer).
 */
type Fault = {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  after?: boolean;
  holdMs?: number;
};

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : null;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type FakeEmail = {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  tags: Record<string, string>;
};

/**
 * Resend's `POST /emails/batch`: Bearer key required (401 `missing_api_key`); up to 100
 * emails (422 `validation_error` beyond); `x-batch-validation: permissive` answers
 * `{ data: [{ id }], errors: [{ index, message }] }` with invalid addresses as errors;
 * an `Idempotency-Key` seen before with the same body answers the first response and sends
 * nothing, with another body 409 `invalid_idempotent_request`. `fail(...)` queues faults
 * for the next requests; `latencyMs` delays every answer; `perSecond` answers 429
 * `rate_limit_exceeded` with `retry-after` past that rate.
 */
export async function startFakeResend(options: { apiKey?: string; latencyMs?: number } = {}) {
  const apiKey = options.apiKey ?? 're_test_key';
  const sent: FakeEmail[] = [];
  const keys: string[] = [];
  const seen = new Map<string, { body: string; response: unknown }>();
  const faults: Fault[] = [];
  let requests = 0;
  let conflicts = 0;
  const server = createServer(async (req, res) => {
    let fault: Fault | undefined;
    const reply = async (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (fault?.holdMs) await sleep(fault.holdMs);
      if (fault?.after) [status, body, headers] = [fault.status, fault.body, fault.headers ?? {}];
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const body = await readJson(req);
    if (options.latencyMs) await sleep(options.latencyMs);
    requests++;
    if (req.method !== 'POST' || req.url !== '/emails/batch')
      return reply(404, { statusCode: 404, name: 'not_found', message: 'Route not found' });
    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return reply(401, {
        statusCode: 401,
        name: 'missing_api_key',
        message: 'Missing API key in the authorization header.',
      });
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') keys.push(key);
    fault = faults.shift();
    if (fault && !fault.after) return reply(fault.status, fault.body, fault.headers);
    const raw = JSON.stringify(body);
    if (typeof key === 'string') {
      const prior = seen.get(key);
      if (prior && prior.body === raw) return reply(200, prior.response);
      if (prior) conflicts++;
      if (prior)
        return reply(409, {
          statusCode: 409,
          name: 'invalid_idempotent_request',
          message: 'Same idempotency key used with a different request payload.',
        });
    }
    const emails = body as {
      to: string[];
      subject: string;
      text: string;
      html: string;
      tags?: { name: string; value: string }[];
    }[];
    if (!Array.isArray(emails) || emails.length > 100)
      return reply(422, {
        statusCode: 422,
        name: 'validation_error',
        message: 'The batch must contain between 1 and 100 emails.',
      });
    const permissive = req.headers['x-batch-validation'] === 'permissive';
    const data: { id: string }[] = [];
    const errors: { index: number; message: string }[] = [];
    emails.forEach((e, index) => {
      const to = e.to?.[0] ?? '';
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(to)) {
        errors.push({
          index,
          message: `Invalid \`to\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
        });
        return;
      }
      const id = crypto.randomUUID();
      data.push({ id });
      sent.push({
        id,
        to,
        subject: e.subject,
        text: e.text,
        html: e.html,
        tags: Object.fromEntries((e.tags ?? []).map((t) => [t.name, t.value])),
      });
    });
    if (errors.length && !permissive)
      return reply(422, { statusCode: 422, name: 'validation_error', message: errors[0]?.message });
    const response = permissive ? { data, errors } : { data };
    if (typeof key === 'string') seen.set(key, { body: raw, response });
    reply(200, response);
  });
  const url = await listen(server);
  return {
    url,
    apiKey,
    sent,
    /** Every Idempotency-Key received, in order (repeats included). */
    keys,
    get requests() {
      return requests;
    },
    /** Requests answered 409 `invalid_idempotent_request` (a key reused with another body). */
    get conflicts() {
      return conflicts;
    },
    fail(...f: Fault[]) {
      faults.push(...f);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Expo's push API: `POST /--/api/v2/push/send` (≤ 100 messages, else 400
 * `PUSH_TOO_MANY_NOTIFICATIONS`) answers `{ data: [ticket] }`, a ticket being
 * `{ status: 'ok', id }` or `{ status: 'error', message, details: { error } }`;
 * `POST /--/api/v2/push/getReceipts` with `{ ids }` answers `{ data: { [id]: receipt } }`.
 * Tokens in `deadAtSend` get a `DeviceNotRegistered` ticket; those in `deadAtReceipt` an
 * ok ticket and then a `DeviceNotRegistered` receipt. `fail(...)` queues request faults.
 */
export async function startFakeExpo(options: { latencyMs?: number } = {}) {
  const sent: {
    id: string;
    to: string;
    title: string;
    body: string;
    data: Record<string, string>;
  }[] = [];
  const deadAtSend = new Set<string>();
  const deadAtReceipt = new Set<string>();
  const tokenOfTicket = new Map<string, string>();
  const faults: Fault[] = [];
  const batchSizes: number[] = [];
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const body = await readJson(req);
    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = faults.shift();
    if (fault) return reply(fault.status, fault.body, fault.headers);
    if (req.url === '/--/api/v2/push/send') {
      const messages = body as {
        to: string;
        title: string;
        body: string;
        data: Record<string, string>;
      }[];
      batchSizes.push(messages.length);
      if (messages.length > 100)
        return reply(400, {
          errors: [
            {
              code: 'PUSH_TOO_MANY_NOTIFICATIONS',
              message: 'You are trying to send more than 100 push notifications in one request.',
            },
          ],
        });
      return reply(200, {
        data: messages.map((m) => {
          if (deadAtSend.has(m.to))
            return {
              status: 'error',
              message: `"${m.to}" is not a registered push notification recipient`,
              details: { error: 'DeviceNotRegistered' },
            };
          const id = crypto.randomUUID();
          tokenOfTicket.set(id, m.to);
          sent.push({ id, ...m });
          return { status: 'ok', id };
        }),
      });
    }
    if (req.url === '/--/api/v2/push/getReceipts') {
      const ids = (body as { ids: string[] }).ids;
      return reply(200, {
        data: Object.fromEntries(
          ids
            .filter((id) => tokenOfTicket.has(id))
            .map((id) => [
              id,
              deadAtReceipt.has(tokenOfTicket.get(id) ?? '')
                ? {
                    status: 'error',
                    message: 'The device is not registered',
                    details: { error: 'DeviceNotRegistered' },
                  }
                : { status: 'ok' },
            ]),
        ),
      });
    }
    reply(404, { errors: [{ code: 'NOT_FOUND', message: 'Not found' }] });
  });
  const url = await listen(server);
  return {
    url,
    sent,
    deadAtSend,
    deadAtReceipt,
    batchSizes,
    fail(...f: Fault[]) {
      faults.push(...f);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
