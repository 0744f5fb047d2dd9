import { FLY_APP_NAME, pathSegment } from '../outside-ids.ts';
import { FlyApiError } from './errors.ts';
import type { Transport } from './http.ts';
import type { CreateVolumeRequest, Volume } from './types.ts';

/** fly-go `destroyedVolumeStates`: a volume in one of these is gone or going. */
export const DELETED_VOLUME_STATES = new Set([
  'scheduling_destroy',
  'fork_cleanup',
  'waiting_for_detach',
  'pending_destroy',
  'destroying',
  'destroyed',
]);

/** An ambiguous failure: the volume may or may not exist (no answer, 408, 5xx). */
function ambiguous(error: unknown): error is FlyApiError {
  return (
    error instanceof FlyApiError &&
    (error.status === 0 || error.status === 408 || error.status >= 500)
  );
}

/** The live volume named `name` in `region` (the newest, if several), or null. */
export function findLiveVolume(volumes: Volume[], name: string, region?: string): Volume | null {
  const matches = volumes
    .filter(
      (v) =>
        v.name === name && (!region || v.region === region) && !DELETED_VOLUME_STATES.has(v.state),
    )
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  return matches[0] ?? null;
}

/**
 * `POST /v1/apps/{app}/volumes` made safe to repeat for a caller whose volume `name` is
 * unique to its request (docs: volumes-resource, "Create a volume"; volumes carry no
 * metadata, so the name is the only tag). After an ambiguous failure — no answer, a 408
 * or a 5xx, which Fly may send after the volume was made — the app's volumes are listed and
 * a live one with that name and region is returned instead of creating a second; only when
 * there is none is the create sent once more. Never after a timeout: the first create may
 * still be on its way and land after the listing, so the error goes back to the caller,
 * which must look again (by name) no sooner than one timeout later. If the listing fails
 * too, the first error is thrown: creating without knowing could leave an orphan. A
 * definite failure (4xx) is thrown at once.
 */
export async function createVolumeReconciled(
  transport: Transport,
  list: () => Promise<Volume[]>,
  app: string,
  request: CreateVolumeRequest,
): Promise<Volume> {
  let lastError: FlyApiError | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await transport.send<Volume>({
        method: 'POST',
        path: `/apps/${pathSegment(app, 'Fly app name', FLY_APP_NAME)}/volumes`,
        body: request,
        action: 'create_volume',
        scope: app,
      });
    } catch (error) {
      if (!ambiguous(error)) throw error;
      let found: Volume | null;
      try {
        found = findLiveVolume(await list(), request.name, request.region);
      } catch {
        throw error;
      }
      if (found) return found;
      if (error.code === 'deadline_exceeded') throw error;
      lastError = error;
    }
  }
  throw lastError;
}
