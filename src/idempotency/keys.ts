import { and, eq, lte } from 'drizzle-orm';
import { idempotencyKeys } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import {
  type Claim,
  type ClaimLost,
  claimUnit,
  heldBy,
  later,
  writeHeld,
} from '../lib/work/index.ts';
import { idempotencyUnits } from './units.ts';

/** How long a key and its answer are kept: 24 h (the draft's example, Stripe's window). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a request may hold its key before another with the same key may take it over
 * (its process died mid-request). Longer than any creating request runs (their outside
 * calls time out after seconds); until then a retry answers 409.
 */
export const IDEMPOTENCY_LEASE_MS = 2 * 60 * 1000;

/** Whose key it is: the API key, and the user a platform request acts for ('' for none). */
export type IdempotencyScope = { apiKeyId: string; userId: string; key: string };
/** The request the key was sent with; `fingerprint` is the SHA-256 of method, path and body. */
export type IdempotentRequest = { method: string; path: string; fingerprint: string };
/** A kept answer: status, the headers worth replaying, and the body as sent. */
export type StoredResponse = { status: number; headers: Record<string, string>; body: string };

export type KeyClaim =
  /** The key is this request's: run the handler, then {@link completeIdempotencyKey}. */
  | { kind: 'claimed'; claim: Claim }
  /** A request with this key and body was answered: send its answer again. */
  | { kind: 'replay'; response: StoredResponse }
  /** A request with this key is still running (its lease is live). */
  | { kind: 'in-progress' }
  /** The key was used for another method, path or body. */
  | { kind: 'mismatch' };

/**
 * Claims `scope.key` for this request in one statement (`INSERT … ON CONFLICT DO NOTHING`
 * with a claim token and a lease), so of many concurrent requests with one key exactly one
 * runs. Otherwise reads the key's row: another fingerprint is a `mismatch` (checked first,
 * so a wrong body is told even while the first runs), a completed one a `replay`, a held
 * one `in-progress`; one whose lease passed (its holder died) is claimed again. A row past
 * `expires_at` counts as absent (deleted here if the sweep has not yet). App clock.
 */
export async function claimIdempotencyKey(
  deps: Pick<Deps, 'db' | 'clock'>,
  scope: IdempotencyScope,
  request: IdempotentRequest,
): Promise<KeyClaim> {
  const { db } = deps;
  const t = idempotencyKeys;
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock.now();
    const leaseUntil = later(now, IDEMPOTENCY_LEASE_MS);
    const [inserted] = await db
      .insert(t)
      .values({
        ...scope,
        ...request,
        claimToken: crypto.randomUUID(),
        claimedAt: now,
        attempts: 1,
        leaseUntil,
        createdAt: now,
        expiresAt: later(now, IDEMPOTENCY_TTL_MS),
      })
      .onConflictDoNothing()
      .returning({ id: t.id, claimToken: t.claimToken });
    if (inserted) return { kind: 'claimed', claim: inserted };

    const [row] = await db
      .select()
      .from(t)
      .where(and(eq(t.apiKeyId, scope.apiKeyId), eq(t.userId, scope.userId), eq(t.key, scope.key)));
    if (!row) continue; // released (a 5xx) or swept between the two statements
    if (row.expiresAt <= now) {
      await db.delete(t).where(and(eq(t.id, row.id), lte(t.expiresAt, now)));
      continue;
    }
    if (
      row.fingerprint !== request.fingerprint ||
      row.method !== request.method ||
      row.path !== request.path
    )
      return { kind: 'mismatch' };
    if (row.status === 'completed')
      return {
        kind: 'replay',
        response: {
          status: row.responseStatus ?? 200,
          headers: row.responseHeaders ?? {},
          body: row.responseBody ?? '',
        },
      };
    const taken = await claimUnit(db, idempotencyUnits, row.id, {
      now,
      leaseUntil,
      due: false,
      when: eq(t.fingerprint, request.fingerprint),
    });
    if (taken) return { kind: 'claimed', claim: taken };
    return { kind: 'in-progress' };
  }
  // Only a key deleted and re-taken four times in a row gets here; the client may retry.
  return { kind: 'in-progress' };
}

/**
 * Keeps the answer of the request holding the key (`completed`, claim released); from now
 * on every retry with the key gets it. A lost claim (the lease passed and another request
 * took the key over) is reported as {@link ClaimLost}: that request's answer is kept instead.
 */
export async function completeIdempotencyKey(
  deps: Pick<Deps, 'db'>,
  claim: Claim,
  response: StoredResponse,
): Promise<void> {
  await writeHeld(
    deps.db,
    idempotencyUnits,
    claim,
    {
      status: 'completed',
      responseStatus: response.status,
      responseHeaders: response.headers,
      responseBody: response.body,
    },
    { release: true },
  );
}

/**
 * Forgets the key of a request that failed on our side (5xx, or an error thrown), so a retry
 * with it runs again instead of being told the failure for 24 h. No-op when the claim was lost.
 */
export async function releaseIdempotencyKey(deps: Pick<Deps, 'db'>, claim: Claim): Promise<void> {
  await deps.db.delete(idempotencyKeys).where(heldBy(idempotencyKeys, claim));
}

/** Deletes keys past `expires_at` (the every-minute sweep). Returns how many. */
export async function deleteExpiredIdempotencyKeys(
  deps: Pick<Deps, 'db'>,
  now: Date,
): Promise<number> {
  const gone = await deps.db
    .delete(idempotencyKeys)
    .where(lte(idempotencyKeys.expiresAt, now))
    .returning({ id: idempotencyKeys.id });
  return gone.length;
}
