import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';

describe('parseConfig', () => {
  it('defaults to embedded mode on PGlite in ./.data with port 8787', () => {
    const r = parseConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      mode: 'embedded',
      port: 8787,
      publicUrl: 'http://localhost:8787',
      database: { kind: 'pglite', dataDir: './.data/pglite' },
      sessionSecret: null,
      firstAdmin: { email: 'admin@fleetwarden.local', password: null },
      qstash: { baseUrl: 'http://localhost:8787/__dev/qstash', emulated: true },
    });
  });

  it('picks the driver from DATABASE_URL', () => {
    const kind = (url: string) => {
      const r = parseConfig({ DATABASE_URL: url });
      return r.ok ? r.config.database.kind : r.message;
    };
    expect(kind('memory://')).toBe('pglite');
    expect(kind('postgres://u:p@localhost:5432/db')).toBe('postgres');
    expect(kind('postgresql://u:p@ep-cool-1.eu-central-1.aws.neon.tech/db')).toBe('neon');
    expect(kind('neon://u:p@localhost:4444/db')).toBe('neon');
  });

  it('production requires DATABASE_URL, SESSION_SECRET and PUBLIC_URL, named in one message', () => {
    const r = parseConfig({ NODE_ENV: 'production' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('DATABASE_URL: required in production');
    expect(r.message).toContain('SESSION_SECRET: required in production');
    expect(r.message).toContain('PUBLIC_URL: required in production');
    expect(r.message).toContain('QSTASH_TOKEN: required in production');
    expect(r.message).toContain('QSTASH_CURRENT_SIGNING_KEY');
    expect(r.message).toContain('QSTASH_NEXT_SIGNING_KEY');
    expect(r.message).toContain('FLY_API_TOKEN: required in production');
    expect(r.message).toContain('CONTROLLER_SECRET: required in production');
    expect(r.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(8);
  });

  it('lists every invalid variable at once and never echoes secrets', () => {
    const r = parseConfig({
      PORT: 'eighty',
      SESSION_SECRET: 'short-secret',
      ADMIN_EMAIL: 'nope',
      LOG_LEVEL: 'loud',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(r.message).toContain('SESSION_SECRET: must be at least 32 characters');
    expect(r.message).toContain('ADMIN_EMAIL:');
    expect(r.message).toContain('LOG_LEVEL:');
    expect(r.message).not.toContain('short-secret');
  });

  it('treats empty variables as unset', () => {
    const r = parseConfig({ PORT: '', DATABASE_URL: '' });
    expect(r.ok && r.config.port).toBe(8787);
  });

  it('production does not accept PGlite', () => {
    const r = parseConfig({
      FLEETWARDEN_MODE: 'production',
      DATABASE_URL: 'memory://',
      SESSION_SECRET: 'x'.repeat(32),
      PUBLIC_URL: 'https://fleet.example.com',
      QSTASH_TOKEN: 't',
      QSTASH_CURRENT_SIGNING_KEY: 'a',
      QSTASH_NEXT_SIGNING_KEY: 'b',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('production needs PostgreSQL');
  });

  it('accepts a complete production environment', () => {
    const r = parseConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@db:5432/fleet',
      SESSION_SECRET: 'x'.repeat(32),
      CONTROLLER_SECRET: 'c'.repeat(32),
      PUBLIC_URL: 'https://fleet.example.com/',
      ADMIN_API_TOKEN: `fwa_${'A'.repeat(40)}`,
      TRUST_PROXY_HEADER: 'Fly-Client-IP',
      QSTASH_TOKEN: 'token',
      QSTASH_CURRENT_SIGNING_KEY: 'sig_current',
      QSTASH_NEXT_SIGNING_KEY: 'sig_next',
      FLY_API_TOKEN: 'fly-token',
      FLY_APP_NAME: 'agents-prod',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.publicUrl).toBe('https://fleet.example.com');
    expect(r.config.firstAdmin).toBeNull();
    expect(r.config.trustProxyHeader).toBe('fly-client-ip');
    expect(r.config.controller).toEqual({ secret: 'c'.repeat(32), timeoutMs: 10_000 });
    expect(r.config.qstash).toMatchObject({
      baseUrl: 'https://qstash.upstash.io',
      emulated: false,
    });
  });

  it('listens on 127.0.0.1 in embedded mode unless HOST says otherwise; production on every interface', () => {
    const host = (env: Record<string, string>) => {
      const r = parseConfig(env);
      return r.ok ? r.config.host : r.message;
    };
    expect(host({})).toBe('127.0.0.1');
    expect(host({ HOST: '0.0.0.0' })).toBe('0.0.0.0');
    expect(
      host({
        FLEETWARDEN_MODE: 'production',
        DATABASE_URL: 'postgres://u:p@db:5432/fleet',
        SESSION_SECRET: 'x'.repeat(32),
        CONTROLLER_SECRET: 'c'.repeat(32),
        PUBLIC_URL: 'https://fleet.example.com',
        QSTASH_TOKEN: 't',
        QSTASH_CURRENT_SIGNING_KEY: 'a',
        QSTASH_NEXT_SIGNING_KEY: 'b',
        FLY_API_TOKEN: 'f',
      }),
    ).toBeNull();
    expect(host({ HOST: 'evil host; rm' })).toContain('HOST: must be a host name or IP address');
  });

  it('refuses real Fly or QStash credentials in embedded mode, naming each and never echoing it', () => {
    const r = parseConfig({
      FLY_API_TOKEN: 'fo1_real-fly-token',
      QSTASH_TOKEN: 'real-qstash-token',
      QSTASH_CURRENT_SIGNING_KEY: 'sig_real_current',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('FLY_API_TOKEN: not allowed in embedded mode');
    expect(r.message).toContain('QSTASH_TOKEN: not allowed in embedded mode');
    expect(r.message).toContain('QSTASH_CURRENT_SIGNING_KEY: not allowed in embedded mode');
    expect(r.message).toContain('FLEETWARDEN_MODE=production');
    expect(r.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
    for (const secret of ['fo1_real-fly-token', 'real-qstash-token', 'sig_real_current'])
      expect(r.message).not.toContain(secret);
  });
});
