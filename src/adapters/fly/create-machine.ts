import { FLY_APP_NAME, pathSegment } from '../outside-ids.ts';
import { FlyApiError } from './errors.ts';
import type { Transport } from './http.ts';
import type { CreateMachineRequest, Machine } from './types.ts';

/** Metadata key the client tags every created machine with. */
export const REQUEST_ID_KEY = 'fleetwarden_request_id';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** 20 base-32 characters (100 bits) from the transport's `random`. */
function newRequestId(random: () => number): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ALPHABET[Math.floor(random() * 32)];
  return id;
}

/**
 * A failure after which the machine may or may not exist: no response (network), a timeout
 * (408) or a server error (5xx). flyctl's comments call the same case out: "a 408 on a
 * non-idempotent create is ambiguous; the side effect may have happened".
 */
function ambiguous(error: unknown): error is FlyApiError {
  return (
    error instanceof FlyApiError &&
    (error.status === 0 || error.status === 408 || error.status >= 500)
  );
}

/**
 * `POST /v1/apps/{app}/machines` made safe to repeat (docs: machines-resource, "Create a
 * Machine": "This request can fail, and you're responsible for handling that failure").
 *
 * The machine's `config.metadata.fleetwarden_request_id` carries a request id: a fresh
 * random one, or the caller's own if it set one (a stable id, e.g. derived from an
 * instance id, makes the create idempotent across process restarts too). When the create
 * fails ambiguously, the client lists the app's machines filtered by that tag
 * (`metadata.fleetwarden_request_id=<id>`, docs: machines-resource, "List Machines") and
 * returns the machine if it exists. Only if none does is the create sent once more with the
 * same id, reconciled the same way if that fails too — but never after a timeout (the first
 * create may still land): then the error goes back to the caller, which must look again by
 * the tag no sooner than one timeout later. If the listing itself fails the original
 * error is thrown, because re-creating without knowing could make a second machine. A
 * definite failure (4xx other than 408) is thrown at once.
 *
 * Residual risk: a create still running on Fly's side when the listing runs is not seen;
 * the retry would then make a second machine with the same tag, which a later listing by
 * the tag reveals.
 */
export async function createMachineReconciled(
  transport: Transport,
  listByRequestId: (requestId: string) => Promise<Machine[]>,
  app: string,
  request: CreateMachineRequest,
): Promise<Machine> {
  const requestId = request.config.metadata?.[REQUEST_ID_KEY] ?? newRequestId(transport.random);
  const body: CreateMachineRequest = {
    ...request,
    config: {
      ...request.config,
      metadata: { ...request.config.metadata, [REQUEST_ID_KEY]: requestId },
    },
  };
  let lastError: FlyApiError | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await transport.send<Machine>({
        method: 'POST',
        path: `/apps/${pathSegment(app, 'Fly app name', FLY_APP_NAME)}/machines`,
        body,
        action: 'create_machine',
        scope: app,
      });
    } catch (error) {
      if (!ambiguous(error)) throw error;
      let found: Machine[];
      try {
        found = await listByRequestId(requestId);
      } catch {
        throw error;
      }
      const [machine] = found;
      if (machine) return machine;
      // After a timeout the first create may still land: never send a second one now.
      if (error.code === 'deadline_exceeded') throw error;
      lastError = error;
    }
  }
  throw lastError;
}
