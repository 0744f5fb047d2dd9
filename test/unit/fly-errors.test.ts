import { describe, expect, it } from 'vitest';
import {
  errorFromResponse,
  FlyApiError,
  isFlyError,
  parseRetryAfter,
} from '../../src/adapters/fly/errors.ts';

const parse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  errorFromResponse(
    status,
    typeof body === 'string' ? body : JSON.stringify(body),
    new Headers(headers),
    Date.parse('2026-03-01T12:00:00Z'),
  );

describe('FlyApiError from Machines API responses', () => {
  it('takes the code from the gRPC-style prefix of the error text', () => {
    expect(parse(404, { error: 'not_found: machine not found' })).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'not_found: machine not found',
      body: { error: 'not_found: machine not found' },
    });
    expect(
      parse(408, {
        error:
          'deadline_exceeded: machine failed to reach desired state, started, currently stopped',
      }).code,
    ).toBe('deadline_exceeded');
    expect(parse(409, { error: 'already_exists: unique machine name violation' }).code).toBe(
      'already_exists',
    );
  });

  it('prefers a cause-naming body status (insufficient_capacity) over the HTTP status', () => {
    const e = parse(412, {
      error: 'insufficient resources to create new machine',
      status: 'insufficient_capacity',
    });
    expect(e).toMatchObject({ code: 'insufficient_capacity', status: 412 });
    expect(
      parse(422, { error: 'Validation failed: Name has already been taken', status: 'name_taken' })
        .code,
    ).toBe('name_taken');
    // `unknown` names no cause: fall back to the prefix or the HTTP status.
    expect(parse(400, { error: 'bad', status: 'unknown' }).code).toBe('invalid_argument');
  });

  it('falls back to the HTTP status, reads the legacy lease envelope, survives non-JSON', () => {
    expect(parse(404, { error: 'app not found' }).code).toBe('not_found');
    expect(parse(500, { error: 'boom' }).code).toBe('unknown');
    const legacy = parse(409, {
      status: 'error',
      message: 'machine ID x lease currently held by y',
      code: 'invalid',
    });
    expect(legacy).toMatchObject({
      code: 'aborted',
      message: 'machine ID x lease currently held by y',
    });
    expect(parse(502, '<html>Bad Gateway</html>')).toMatchObject({
      code: 'unknown',
      message: '<html>Bad Gateway</html>',
    });
    expect(parse(503, '').message).toBe('HTTP 503');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parse(429, { error: 'slow down' }, { 'Retry-After': '2' })).toMatchObject({
      code: 'resource_exhausted',
      retryAfterMs: 2000,
    });
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('isFlyError matches status and code', () => {
    const e = new FlyApiError({ status: 0, code: 'unavailable', message: 'network error' });
    expect(isFlyError(e, 0)).toBe(true);
    expect(isFlyError(e, 0, 'unavailable')).toBe(true);
    expect(isFlyError(e, 408)).toBe(false);
    expect(isFlyError(new Error('x'))).toBe(false);
  });
});
