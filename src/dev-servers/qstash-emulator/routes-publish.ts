import { Hono } from 'hono';
import { z } from 'zod';
import { headerMap, parsePublishConfig, refuseDestination } from './config.ts';
import type { EmulatorContext } from './context.ts';
import { destinationAfter, qstashError } from './http.ts';
import { type PublishResult, publish } from './publish.ts';

const BatchItem = z.object({
  destination: z.string().min(1),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  queue: z.string().optional(),
});

const encoder = new TextEncoder();

/** `POST /v2/publish/{destination}` and `POST /v2/batch` (upstash/docs `qstash/api/publish`, `batch`). */
export function publishRoutes(ctx: EmulatorContext) {
  const app = new Hono();

  app.post('/v2/publish/*', async (c) => {
    const destination = destinationAfter(c, '/v2/publish/') ?? '(none)';
    const refused = refuseDestination(ctx.origins, destination);
    if (refused) return qstashError(c, 400, refused);
    const parsed = parsePublishConfig(headerMap(c.req.raw.headers), ctx.origins);
    if (!parsed.ok) return qstashError(c, 400, parsed.error);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const result = await publish(ctx, {
      destination,
      config: parsed.config,
      body,
      callerIp: c.req.header('x-forwarded-for') ?? null,
    });
    // A duplicate is accepted but not enqueued: 202 with the existing message id.
    return c.json(result, result.deduplicated ? 202 : 201);
  });

  app.post('/v2/batch', async (c) => {
    const json = await c.req.json().catch(() => null);
    const items = z.array(BatchItem).max(1000).safeParse(json);
    if (!items.success)
      return qstashError(
        c,
        400,
        'the batch body must be a JSON array of {destination, headers?, body?}',
      );
    const results: (PublishResult | { error: string })[] = [];
    for (const item of items.data) {
      const refused = refuseDestination(ctx.origins, item.destination);
      if (refused) {
        results.push({ error: refused });
        continue;
      }
      const parsed = parsePublishConfig(headerMap(item.headers), ctx.origins);
      if (!parsed.ok) {
        results.push({ error: parsed.error });
        continue;
      }
      results.push(
        await publish(ctx, {
          destination: item.destination,
          config: parsed.config,
          body: encoder.encode(item.body ?? ''),
        }),
      );
    }
    return c.json(results, 200);
  });

  return app;
}
