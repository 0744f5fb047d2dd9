import { describe, expect, it } from 'vitest';
import { jsonLogger, redact } from '../../src/lib/log.ts';

describe('logging', () => {
  it('writes one JSON object per line with at, level and event', () => {
    const lines: string[] = [];
    const log = jsonLogger({
      write: (l) => lines.push(l),
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    log.info('thing.happened', { id: 1 });
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      at: '2026-01-02T03:04:05.000Z',
      level: 'info',
      event: 'thing.happened',
      id: 1,
    });
  });

  it('redacts secret-looking fields, nested too', () => {
    expect(
      redact({
        password: 'p',
        token: 't',
        nested: { apiKey: 'k', ok: 1 },
        authorization: 'Bearer x',
      }),
    ).toEqual({
      password: '[redacted]',
      token: '[redacted]',
      nested: { apiKey: '[redacted]', ok: 1 },
      authorization: '[redacted]',
    });
  });

  it("redacts inside arrays, and keeps an error's stack, fields and cause chain", () => {
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const err = Object.assign(new Error('Fly said 503', { cause: root }), {
      status: 503,
      token: 'fly-secret',
    });
    const out = redact({ items: [{ password: 'p', id: 1 }, 'plain'], error: err });
    expect(out.items).toEqual([{ password: '[redacted]', id: 1 }, 'plain']);
    expect(out.error).toMatchObject({
      name: 'Error',
      message: 'Fly said 503',
      status: 503,
      token: '[redacted]',
      cause: { message: 'socket hang up', code: 'ECONNRESET' },
    });
    expect((out.error as { stack: string }).stack).toContain('log.test.ts');
    expect((out.error as { cause: { stack: string } }).cause.stack).toContain('socket hang up');
  });

  it('stops at a cycle instead of overflowing', () => {
    const loop: Record<string, unknown> = { id: 1 };
    loop.self = loop;
    expect(JSON.stringify(redact({ loop }))).toContain('[too deep]');
  });
});
