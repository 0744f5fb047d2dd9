/**
 * Why a controller call failed:
 * - `timeout`: no complete answer within the client's timeout; the call may have acted.
 * - `unreachable`: a lost connection, or a 502/503. Either may follow the effect (the
 *   controller acted and the answer was lost, or the controller itself answered 503);
 *   from Fly's proxy a 502/503 means no machine answered. The status cannot tell which:
 *   the caller looks at the machine through the Fly client before deciding.
 * - `unauthorized`: 401/403, the machine's token does not match (an old machine config).
 * - `not_found`: 404, the controller does not know the run or session.
 * - `conflict`: 409, a CLI run is already live on the machine; `liveId` names it when the
 *   controller said.
 * - `rejected`: another 4xx (422: a session start's `Idempotency-Key` reused with another
 *   body); the request was refused and changed nothing.
 * - `server`: a 5xx; whether it acted is unknown.
 * - `invalid_response`: a 2xx whose body is not the contract's.
 */
export type ControllerErrorKind =
  | 'timeout'
  | 'unreachable'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'rejected'
  | 'server'
  | 'invalid_response';

/** A failed instance-controller call. `status` is the HTTP status, 0 when none came. */
export class ControllerError extends Error {
  readonly kind: ControllerErrorKind;
  readonly status: number;
  /** With `conflict`: the live run's id, when the controller named it. */
  readonly liveId: string | null;

  constructor(init: {
    kind: ControllerErrorKind;
    status: number;
    message: string;
    liveId?: string | null;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ControllerError';
    this.kind = init.kind;
    this.status = init.status;
    this.liveId = init.liveId ?? null;
  }
}

/** The kind an HTTP error status means. */
export function kindForStatus(status: number): ControllerErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 502 || status === 503) return 'unreachable';
  if (status >= 500) return 'server';
  return 'rejected';
}

/** True for a ControllerError of that kind. */
export function isControllerError(error: unknown, kind?: ControllerErrorKind): boolean {
  return error instanceof ControllerError && (kind === undefined || error.kind === kind);
}

/**
 * True when the call may have acted although it failed (`timeout`, `unreachable`,
 * `server`, and a 2xx whose body is not the contract's): its outcome is unknown, to be
 * resolved by looking (a start sent again with its `Idempotency-Key`, an idempotent cancel
 * sent again, or the machine's state from Fly), never taken for "not done".
 */
export function outcomeUnknown(error: unknown): boolean {
  return (
    error instanceof ControllerError &&
    (error.kind === 'timeout' ||
      error.kind === 'unreachable' ||
      error.kind === 'server' ||
      error.kind === 'invalid_response')
  );
}
