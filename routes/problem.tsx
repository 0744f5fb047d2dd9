import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError, TooManyRequestsError } from '../src/lib/errors.ts';
import type { Logger } from '../src/lib/log.ts';
import { Layout } from '../views/layout.tsx';
import { ErrorContent, ErrorPage } from '../views/pages/error.tsx';
import { count } from '../views/plural.ts';
import type { AppEnv } from './env.ts';

/**
 * RFC 9457 problem details (https://www.rfc-editor.org/rfc/rfc9457). `type` is a stable
 * relative URI, `/problems/<code>`, whose page describes the problem.
 */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemBody(input: {
  status: number;
  code: string;
  title: string;
  detail: string;
  requestId?: string | undefined;
  errors?: { path: string; message: string }[];
  extra?: Record<string, unknown>;
}): Problem {
  // Extension members come first so they can never overwrite the standard ones.
  return {
    ...(input.extra ?? {}),
    type: `/problems/${input.code}`,
    title: input.title,
    status: input.status,
    detail: input.detail,
    ...(input.errors ? { errors: input.errors } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
  };
}

export function problemResponse(
  c: Context<AppEnv>,
  problem: Omit<Parameters<typeof problemBody>[0], 'requestId'>,
): Response {
  const body = problemBody({ ...problem, requestId: c.get('requestId') });
  return c.body(JSON.stringify(body), problem.status as ContentfulStatusCode, {
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}

const pathText = (path: PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/**
 * zod issues as `{ path: "a.b[0]", message }` for the `errors` member. Unknown fields of a
 * strict object get one entry each, named by their own path.
 */
export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: pathText([...issue.path, key]),
          message: 'unknown field; this endpoint accepts only the documented fields',
        }))
      : [{ path: pathText(issue.path) || '(body)', message: issue.message }],
  );
}

/** The one zod hook for JSON routes: a failed parse is a 400 listing every issue. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError },
  c: Context<AppEnv>,
): Response | undefined {
  if (result.success) return undefined;
  const errors = zodIssues(result.error);
  return problemResponse(c, {
    status: 400,
    code: 'invalid-request',
    title: 'Invalid request',
    detail: `The request has ${count(errors.length, 'invalid field')}.`,
    errors,
  });
}

const isHtmlRoute = (c: Context) => c.req.path === '/admin' || c.req.path.startsWith('/admin/');

function htmlError(
  c: Context<AppEnv>,
  status: number,
  title: string,
  detail: string,
): Response | Promise<Response> {
  const requestId = c.get('requestId');
  if (c.req.header('HX-Request')) {
    // The layout's htmx config swaps error responses; this one lands in the flash area.
    c.header('HX-Retarget', '#flash');
    c.header('HX-Reswap', 'innerHTML');
    return c.html(
      <div class="flash flash-error" role="alert">
        <strong>{title}.</strong> {detail}
      </div>,
      status as ContentfulStatusCode,
    );
  }
  const view = { status, title, detail, requestId: requestId ?? null };
  const assets = c.get('assets')?.urls ?? null;
  const admin = c.get('admin');
  // Signed in: the console frame with its navigation, so the way on is one click away.
  if (admin && assets)
    return c.html(
      <Layout
        title={title}
        assets={assets}
        admin={{ email: admin.email }}
        zone={c.get('timeZone') ?? 'UTC'}
        zoneSource={admin.timeZone ? 'admin' : 'browser'}
        minimal={admin.mustChangePassword}
      >
        <ErrorContent {...view} signedIn />
      </Layout>,
      status as ContentfulStatusCode,
    );
  return c.html(<ErrorPage {...view} assets={assets} />, status as ContentfulStatusCode);
}

/** The one error handler: typed errors become problems (JSON) or an error page (console). */
export function errorHandler(log: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof AppError) {
      if (err instanceof TooManyRequestsError)
        c.header('Retry-After', String(err.retryAfterSeconds));
      if (isHtmlRoute(c)) return htmlError(c, err.status, err.title, err.message);
      return problemResponse(c, {
        status: err.status,
        code: err.code,
        title: err.title,
        detail: err.message,
        extra: err.extra,
      });
    }
    if (err instanceof HTTPException) {
      // Middleware that already built a problem (bearer auth) keeps it.
      if (err.res?.headers.get('content-type')?.startsWith(PROBLEM_CONTENT_TYPE))
        return err.getResponse();
      const status = err.status;
      const known: Record<number, [string, string, string]> = {
        400: ['bad-request', 'Bad request', 'The request could not be understood.'],
        401: [
          'unauthenticated',
          'Authentication required',
          'Send a valid bearer token in the Authorization header.',
        ],
        403: [
          'forbidden',
          'Forbidden',
          'This request was refused (cross-site request or missing permission).',
        ],
        413: ['payload-too-large', 'Payload too large', 'The request body is too large.'],
      };
      const [code, title, detail] = known[status] ?? [
        'http-error',
        'Request failed',
        err.message || 'The request failed.',
      ];
      if (isHtmlRoute(c)) return htmlError(c, status, title, detail);
      return problemResponse(c, {
        status,
        code,
        title,
        detail: err.message && status !== 403 ? err.message : detail,
      });
    }
    log.error('http.unhandled_error', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      error: err,
    });
    const detail =
      'Something went wrong on our side. It has been logged; quote the request id when reporting it.';
    if (isHtmlRoute(c)) return htmlError(c, 500, 'Internal error', detail);
    return problemResponse(c, { status: 500, code: 'internal', title: 'Internal error', detail });
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) => {
  if (isHtmlRoute(c))
    return htmlError(c, 404, 'Page not found', `There is no page at ${c.req.path}.`);
  return problemResponse(c, {
    status: 404,
    code: 'not-found',
    title: 'Not found',
    detail: `No route matches ${c.req.method} ${c.req.path}.`,
  });
};
