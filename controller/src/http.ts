// A small router on node:http (no framework: the controller ships without dependencies).
// Errors are the contract's envelope, `{"error": "<code>", "message": "…"}`; every request
// is one JSON log line without its token, query or body.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Log } from './log.ts';

/** An answer other than success, in the contract's error envelope. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, string>;
  constructor(status: number, code: string, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export type Request = {
  params: Record<string, string>;
  query: URLSearchParams;
  header(name: string): string | undefined;
  /** The body parsed as JSON (400 when it is not). */
  json(): Promise<unknown>;
};
export type Answer = { status: number; body: unknown };
export type Route = {
  method: 'GET' | 'POST';
  /** `/a/:name/b`: `:name` matches one path segment. */
  path: string;
  /** Needs the bearer token (default true). */
  auth?: boolean;
  handle(req: Request): Answer | Promise<Answer>;
};

/** Bodies are a prompt and two short fields: 1 MiB is far above any valid one. */
const MAX_BODY_BYTES = 1 << 20;

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      if (!g) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_request', 'the body is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_request', 'the body is not JSON');
  }
}

/** An HTTP server answering `routes`; `authorized` checks the Authorization header. */
export function createHttpServer(options: {
  routes: Route[];
  authorized: (header: string | undefined) => boolean;
  log: Log;
}): Server {
  return createServer(async (req, res) => {
    const startedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://controller');
    let answer: Answer;
    try {
      const found = options.routes
        .map((route) => ({ route, params: match(route.path, url.pathname) }))
        .filter((m) => m.params !== null);
      const hit = found.find((m) => m.route.method === req.method);
      if ((hit?.route.auth ?? true) && !options.authorized(req.headers.authorization))
        throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
      if (!hit) throw new HttpError(404, 'not_found', `no ${req.method} ${url.pathname}`);
      answer = await hit.route.handle({
        params: hit.params ?? {},
        query: url.searchParams,
        header: (name) => {
          const v = req.headers[name.toLowerCase()];
          return Array.isArray(v) ? v.join(', ') : v;
        },
        json: () => readJson(req),
      });
    } catch (error) {
      if (error instanceof HttpError)
        answer = {
          status: error.status,
          body: { error: error.code, message: error.message, ...error.extra },
        };
      else {
        options.log.error('request.failed', { method: req.method, path: url.pathname, error });
        answer = { status: 500, body: { error: 'internal', message: 'the controller failed' } };
      }
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
    // Polls (GET) are many and say nothing new: debug; starts and cancels are worth a line.
    options.log[req.method === 'GET' ? 'debug' : 'info']('request', {
      method: req.method,
      path: url.pathname,
      status: answer.status,
      ms: Math.round(performance.now() - startedAt),
    });
  });
}
