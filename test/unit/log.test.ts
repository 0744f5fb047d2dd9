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
});
