import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  verifyPassword,
} from '../../src/auth/passwords.ts';

describe('passwords', () => {
  it('hashes with PBKDF2-SHA-256, a per-hash salt and the default 600,000 iterations', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password'),
      hashPassword('same password'),
    ]);
    expect(a).toMatch(/^pbkdf2-sha256\$600000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(DEFAULT_PBKDF2_ITERATIONS).toBe(600_000);
    expect(a).not.toBe(b);
    expect(a).not.toContain('same password');
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse', 1000);
    expect(await verifyPassword('correct horse', stored, 1000)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect((await verifyPassword('correct horsf', stored, 1000)).ok).toBe(false);
  });

  it('asks for a rehash when the stored count is below the policy', async () => {
    const stored = await hashPassword('pw-1234567890', 1000);
    expect(await verifyPassword('pw-1234567890', stored, 2000)).toEqual({
      ok: true,
      needsRehash: true,
    });
  });

  it('treats malformed stored values as a mismatch', async () => {
    for (const bad of ['', 'plain', 'md5$1$a$b', 'pbkdf2-sha256$x$a$b']) {
      expect((await verifyPassword('x', bad)).ok).toBe(false);
    }
  });
});
