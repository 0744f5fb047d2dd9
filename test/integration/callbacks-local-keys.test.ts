import { describe, expect, it } from 'vitest';
import { sweepRuns } from '../../db/schema/index.ts';
import { SWEEP_SCHEDULE } from '../../src/doorbells/run.ts';
import { createTestApp } from '../helpers/app.ts';
import { deliver } from '../helpers/callbacks.ts';
import { qstashSignature } from '../helpers/signing.ts';

// Embedded mode verifies callbacks with QStash's published local keys: anyone can sign.
describe('callbacks signed with the published local keys', async () => {
  it('on a HOST beyond loopback, only the emulator itself (in-process) is heard', async () => {
    const t = await createTestApp({ serve: true, env: { HOST: '0.0.0.0' } });
    const refused = await deliver(t, '/api/callbacks/sweep', {});
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: '/problems/local-only' });
    expect(await t.db.db.select().from(sweepRuns)).toHaveLength(0);
    // The emulator's own delivery still gets through.
    await t.deps.doorbells.ring({ path: SWEEP_SCHEDULE.path, body: {} });
    await t.deliverDue();
    expect(await t.db.db.select().from(sweepRuns)).toHaveLength(1);
  });

  it('on loopback, a callback addressed to another host (DNS rebinding) is refused', async () => {
    const t = await createTestApp({ serve: true });
    const url = t.url('/api/callbacks/sweep');
    const signature = await qstashSignature({ url, body: '{}' });
    const post = (host?: string) =>
      t.app.request(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Upstash-Signature': signature,
          ...(host ? { Host: host } : {}),
        },
        body: '{}',
      });
    expect((await post('rebind.evil.example:8787')).status).toBe(403);
    expect((await post()).status).toBe(200);
  });
});
