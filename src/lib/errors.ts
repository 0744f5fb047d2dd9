/**
 * Errors features throw; `routes/problem.ts` maps them to RFC 9457 problem details
 * (https://www.rfc-editor.org/rfc/rfc9457). `code` becomes the problem `type` slug.
 */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 412 | 413 | 422 | 429 | 502 | 503,
    readonly code: string,
    readonly title: string,
    detail: string,
    /** Extra members for the problem body (e.g. `conflictingInstanceIds`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super(
      404,
      'not-found',
      'Not found',
      id ? `${what} ${id} does not exist.` : `${what} does not exist.`,
    );
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, extra: Record<string, unknown> = {}, code = 'conflict') {
    super(409, code, 'Conflict', detail, extra);
  }
}

/** Input that is well-formed but cannot be acted on (unknown tag, time in the past, …). */
export class UnprocessableError extends AppError {
  constructor(detail: string, extra: Record<string, unknown> = {}, code = 'unprocessable') {
    super(422, code, 'Cannot process this request', detail, extra);
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

/** A request body over its route group's limit (RFC 9110 §15.5.14: 413 Content Too Large). */
export class PayloadTooLargeError extends AppError {
  constructor(readonly limitBytes: number) {
    super(
      413,
      'payload-too-large',
      'Payload too large',
      `The request body is larger than this endpoint accepts (${limitBytes} bytes).`,
      { limitBytes },
    );
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'too-many-requests', 'Too many requests', detail, { retryAfterSeconds });
  }
}

/**
 * 412: an `If-Match` precondition failed (RFC 9110 §13.1.1): the resource changed since the
 * client read the version it names. Read it again, then decide.
 */
export class PreconditionFailedError extends AppError {
  constructor(detail: string, extra: Record<string, unknown> = {}) {
    super(412, 'precondition-failed', 'Precondition failed', detail, extra);
  }
}
