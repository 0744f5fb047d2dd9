import { serve } from '@hono/node-server';
import { Client } from '@upstash/qstash';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { simQstashEvents } from '../../db/dev-schema/index.ts';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { freePort } from '../helpers/process.ts';

const MESSAGES = 300;
const CONCURRENCY = 64;

// The background delivery loop (embedded mode), not the tests' drain: more messages due at
// once than it has delivery slots, a slow destination, and one failure to retry.
describe('QStash emulator delivery loop', async () => {
  const port = await freePort();
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    queueConcurrency: CONCURRENCY,
    queueDestinations: [`http://127.0.0.1:${port}`],
    clock: testClock(new Date(), { follow: true }),
  });
  const client = new Client({
    baseUrl: `${t.origin}/__dev/qstash`,
    token: LOCAL_QSTASH.token,
    enableTelemetry: false,
  });

  let open = 0;
  let maxOpen = 0;
  let failNext = true;
  const seen: string[] = [];
  const server = serve({
    port,
    hostname: '127.0.0.1',
    fetch: async (req) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      await new Promise((r) => setTimeout(r, 20));
      open--;
      seen.push(req.headers.get('upstash-message-id') ?? '');
      if (failNext) {
        failNext = false;
        return new Response('try again', { status: 500 });
      }
      return new Response('ok');
    },
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers every message once (plus one retry), never more than 64 at a time', async () => {
    // All due at the same whole second, so the loop finds 300 due at once.
    const notBefore = Math.ceil(t.clock.now().getTime() / 1000) + 2;
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i += 100) {
      const batch = Array.from({ length: Math.min(100, MESSAGES - i) }, (_, k) => ({
        url: `http://127.0.0.1:${port}/loop`,
        body: { n: i + k },
        notBefore,
      }));
      ids.push(
        ...(await client.batchJSON(batch)).map((r) => ('messageId' in r ? r.messageId : '')),
      );
    }
    const delivered = async () =>
      (
        await t.db.db
          .select({ n: sql<number>`count(distinct ${simQstashEvents.messageId})::int` })
          .from(simQstashEvents)
          .where(eq(simQstashEvents.state, 'DELIVERED'))
      )[0]?.n ?? 0;
    await expect.poll(delivered, { timeout: 30_000, interval: 100 }).toBe(MESSAGES);

    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(MESSAGES + 1);
    expect(maxOpen).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxOpen).toBeGreaterThan(CONCURRENCY / 2);
    const twice = await t.db.db
      .select({ id: simQstashEvents.messageId })
      .from(simQstashEvents)
      .where(eq(simQstashEvents.state, 'DELIVERED'))
      .groupBy(simQstashEvents.messageId)
      .having(sql`count(*) > 1`);
    expect(twice).toEqual([]);
  });
});
