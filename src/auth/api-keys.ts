import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { Db } from '../../db/client.ts';
import { apiKeys } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { randomAlphanumeric, sha256Hex } from '../lib/crypto.ts';
import { NotFoundError, UnprocessableError } from '../lib/errors.ts';

export type ApiKeyKind = 'admin' | 'platform';
export type ApiKey = Omit<typeof apiKeys.$inferSelect, 'hash'>;

/**
 * Key format: `fwa_` (admin token) or `fwp_` (platform key) then 40 characters of
 * [A-Za-z0-9] (≈238 bits). The first 12 characters are the public prefix used to find
 * the row; the rest is secret. Stored as SHA-256: keys are long random strings, so a
 * fast hash is enough (no password stretching needed).
 */
export const KEY_PREFIX: Record<ApiKeyKind, string> = { admin: 'fwa_', platform: 'fwp_' };
const SECRET_LENGTH = 40;
const PREFIX_LENGTH = 12;

function view({ hash: _, ...rest }: typeof apiKeys.$inferSelect): ApiKey {
  return rest;
}

/** Creates a key and returns it in clear once (`key`); only its hash is kept. Audited. */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { kind: ApiKeyKind; label: string };
}): Promise<{ key: string; apiKey: ApiKey }> {
  const label = input.label.trim();
  if (!label)
    throw new UnprocessableError(
      'Give the key a label so it can be recognised later.',
      {},
      'label-required',
    );
  const key = `${KEY_PREFIX[input.kind]}${randomAlphanumeric(SECRET_LENGTH)}`;
  const hash = await sha256Hex(key);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        kind: input.kind,
        prefix: key.slice(0, PREFIX_LENGTH),
        hash,
        label: label.slice(0, 100),
        createdBy: ctx.actor.type === 'admin' ? ctx.actor.id : null,
      })
      .returning();
    if (!row) throw new Error('api key insert returned no row');
    await recordAudit(tx, ctx, {
      action: `api_key.create`,
      subjectType: 'api_key',
      subjectId: row.id,
      payload: { kind: row.kind, label: row.label, prefix: row.prefix },
    });
    return { key, apiKey: view(row) };
  });
}

export async function listApiKeys(db: Db, kind: ApiKeyKind): Promise<ApiKey[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.kind, kind))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(view);
}

/** Revokes a key; it stops working on the next request. Repeating is a no-op. Audited once. */
export async function revokeApiKey({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string };
}): Promise<ApiKey> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock.now() })
      .where(and(eq(apiKeys.id, input.id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) {
      const [existing] = await tx.select().from(apiKeys).where(eq(apiKeys.id, input.id));
      if (!existing) throw new NotFoundError('API key', input.id);
      return view(existing);
    }
    await recordAudit(tx, ctx, {
      action: 'api_key.revoke',
      subjectType: 'api_key',
      subjectId: row.id,
      payload: { kind: row.kind, label: row.label, prefix: row.prefix },
    });
    return view(row);
  });
}

/**
 * The live key of `kind` matching a bearer token, or null. The prefix finds the row; the
 * hashes are compared in constant time. `last_used_at` is written at most once a minute.
 */
export async function verifyApiKey(
  db: Db,
  kind: ApiKeyKind,
  token: string,
  now: Date,
): Promise<ApiKey | null> {
  if (
    !token.startsWith(KEY_PREFIX[kind]) ||
    token.length !== KEY_PREFIX[kind].length + SECRET_LENGTH
  )
    return null;
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.prefix, token.slice(0, PREFIX_LENGTH)),
        eq(apiKeys.kind, kind),
        isNull(apiKeys.revokedAt),
      ),
    );
  if (!row || !(await timingSafeEqual(row.hash, await sha256Hex(token)))) return null;
  const minuteAgo = new Date(now.getTime() - 60_000);
  if (!row.lastUsedAt || row.lastUsedAt < minuteAgo) {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(apiKeys.id, row.id),
          or(isNull(apiKeys.lastUsedAt), sql`${apiKeys.lastUsedAt} < ${minuteAgo.toISOString()}`),
        ),
      );
  }
  return view(row);
}

/**
 * Registers `ADMIN_API_TOKEN` from the configuration at start-up (idempotent). A token
 * revoked in the console stays revoked: configuration never brings it back.
 */
export function registerConfiguredAdminToken(deps: Deps, token: string) {
  return registerConfiguredKey(deps, 'admin', token, 'ADMIN_API_TOKEN');
}

/** Registers `PLATFORM_API_KEY` at start-up, as {@link registerConfiguredAdminToken} does. */
export function registerConfiguredPlatformKey(deps: Deps, key: string) {
  return registerConfiguredKey(deps, 'platform', key, 'PLATFORM_API_KEY');
}

async function registerConfiguredKey(
  deps: Deps,
  kind: ApiKeyKind,
  token: string,
  variable: string,
): Promise<'registered' | 'present' | 'revoked'> {
  const prefix = token.slice(0, PREFIX_LENGTH);
  const hash = await sha256Hex(token);
  return deps.db.transaction(async (tx) => {
    const [existing] = await tx.select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
    if (existing) {
      if (!(await timingSafeEqual(existing.hash, hash)))
        throw new Error(
          `${variable} shares its first 12 characters with another key; generate a new one.`,
        );
      return existing.revokedAt ? 'revoked' : 'present';
    }
    const [row] = await tx
      .insert(apiKeys)
      .values({ kind, prefix, hash, label: `${variable} (configuration)` })
      .returning();
    await recordAudit(
      tx,
      { actor: { type: 'system', id: null, label: 'system' }, requestId: null },
      {
        action: 'api_key.register',
        subjectType: 'api_key',
        subjectId: row?.id,
        payload: { kind, prefix, source: variable },
      },
    );
    return 'registered';
  });
}

/** The live (not revoked) key of `kind` with this id, or null. */
export async function liveApiKey(db: Db, kind: ApiKeyKind, id: string): Promise<ApiKey | null> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.kind, kind), isNull(apiKeys.revokedAt)));
  return row ? view(row) : null;
}
