import { and, asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { imageCatalog } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.ts';

export type CatalogImage = typeof imageCatalog.$inferSelect;

export async function listCatalog(db: Db): Promise<CatalogImage[]> {
  return db
    .select()
    .from(imageCatalog)
    .orderBy(asc(imageCatalog.variant), desc(imageCatalog.publishedAt));
}

export async function findImage(db: Db, imageTag: string): Promise<CatalogImage | null> {
  const [row] = await db.select().from(imageCatalog).where(eq(imageCatalog.imageTag, imageTag));
  return row ?? null;
}

/** An image an instance may be moved to: known and available, else 422 naming why. */
export async function availableImage(db: Db, imageTag: string): Promise<CatalogImage> {
  const image = await findImage(db, imageTag);
  if (!image)
    throw new UnprocessableError(
      `The image ${imageTag} is not in the catalog.`,
      { imageTag },
      'unknown-image',
    );
  if (image.status !== 'available')
    throw new UnprocessableError(
      `The image ${imageTag} is disabled in the catalog.`,
      { imageTag },
      'image-disabled',
    );
  return image;
}

/** The latest available image of a variant, or null. */
export async function latestImage(db: Db, variant: string): Promise<CatalogImage | null> {
  const [row] = await db
    .select()
    .from(imageCatalog)
    .where(
      and(
        eq(imageCatalog.variant, variant),
        eq(imageCatalog.isLatest, true),
        eq(imageCatalog.status, 'available'),
      ),
    );
  return row ?? null;
}

/** Adds an image version (409 if the tag exists). Audited. */
export async function addImage({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { imageTag: string; versionLabel: string; variant?: string; latest?: boolean };
}): Promise<CatalogImage> {
  return ctx.db.transaction(async (tx) => {
    const variant = input.variant ?? 'default';
    if (input.latest)
      await tx
        .update(imageCatalog)
        .set({ isLatest: false })
        .where(eq(imageCatalog.variant, variant));
    const [row] = await tx
      .insert(imageCatalog)
      .values({
        imageTag: input.imageTag,
        versionLabel: input.versionLabel,
        variant,
        isLatest: input.latest ?? false,
        publishedAt: ctx.clock.now(),
      })
      .onConflictDoNothing()
      .returning();
    if (!row)
      throw new ConflictError(
        `The image ${input.imageTag} is already in the catalog.`,
        {},
        'image-exists',
      );
    await recordAudit(tx, ctx, {
      action: 'image.add',
      subjectType: 'image',
      subjectId: row.imageTag,
      payload: { variant, latest: row.isLatest },
    });
    return row;
  });
}

/** Makes an available image the latest of its variant (the previous latest stops being it). Audited. */
export async function setLatestImage({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { imageTag: string };
}): Promise<CatalogImage> {
  return ctx.db.transaction(async (tx) => {
    const [image] = await tx
      .select()
      .from(imageCatalog)
      .where(eq(imageCatalog.imageTag, input.imageTag))
      .for('update');
    if (!image) throw new NotFoundError('Image', input.imageTag);
    if (image.status !== 'available')
      throw new UnprocessableError('A disabled image cannot be the latest.', {}, 'image-disabled');
    await tx
      .update(imageCatalog)
      .set({ isLatest: false })
      .where(and(eq(imageCatalog.variant, image.variant), eq(imageCatalog.isLatest, true)));
    const [row] = await tx
      .update(imageCatalog)
      .set({ isLatest: true })
      .where(eq(imageCatalog.imageTag, image.imageTag))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'image.set_latest',
      subjectType: 'image',
      subjectId: image.imageTag,
      payload: { variant: image.variant },
    });
    return row ?? image;
  });
}

/** Enables or disables an image; a disabled image is never a target and stops being latest. Audited. */
export async function setImageStatus({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { imageTag: string; status: 'available' | 'disabled' };
}): Promise<CatalogImage> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(imageCatalog)
      .set({ status: input.status, ...(input.status === 'disabled' ? { isLatest: false } : {}) })
      .where(eq(imageCatalog.imageTag, input.imageTag))
      .returning();
    if (!row) throw new NotFoundError('Image', input.imageTag);
    await recordAudit(tx, ctx, {
      action: `image.${input.status === 'disabled' ? 'disable' : 'enable'}`,
      subjectType: 'image',
      subjectId: row.imageTag,
    });
    return row;
  });
}

/** Used by import: a tag seen on a machine but not in the catalog is added as disabled. */
export async function ensureImageKnown(db: Db, imageTag: string, now: Date): Promise<void> {
  await db
    .insert(imageCatalog)
    .values({
      imageTag,
      versionLabel: imageTag.split(':').pop() ?? imageTag,
      status: 'disabled',
      publishedAt: now,
    })
    .onConflictDoNothing();
}
