// What docs/deploy.md promises of the recipes that can be checked without Docker or a
// platform account: the Dockerfile copies what exists and starts what package.json has,
// fly.toml's release command, port and check are the app's, every variable a production
// start requires is named in the page, and processes starting together on one fresh
// database migrate it once between them.
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, inject, it } from 'vitest';
import { connect, queryRows } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { parseConfig } from '../../src/config.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';

const read = (path: string) => readFileSync(path, 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  engines: { node: string };
};

/** Dockerfile instructions, one per logical line (comments and continuations folded). */
const instructions = read('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest };
  });

describe('the Dockerfile', () => {
  it('copies only files and folders that exist, and none the .dockerignore leaves out', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = instructions
      .filter((i) => i.op === 'COPY')
      .flatMap((i) => i.args.filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(source), source).toBe(true);
      expect(ignored, source).not.toContain(source.replace(/^\.\//, ''));
    }
  });

  it('starts a script package.json has, whose runner is a production dependency', () => {
    const cmd = instructions.find((i) => i.op === 'CMD');
    expect(cmd?.args.join(' ')).toBe('["npm", "start"]');
    // npm ci --omit=dev installs dependencies only: the start and migrate scripts' runner
    // must be among them.
    expect(instructions.some((i) => i.op === 'RUN' && i.args.includes('--omit=dev'))).toBe(true);
    for (const script of ['start', 'db:migrate']) {
      const runner = pkg.scripts[script]?.split(' ')[0] ?? '';
      expect(pkg.dependencies, `${script}: ${runner}`).toHaveProperty(runner);
    }
  });

  it("uses a Node that package.json's engines accept", () => {
    const from = instructions.find((i) => i.op === 'FROM')?.args[0] ?? '';
    const major = Number(from.match(/^node:(\d+)/)?.[1]);
    const minimum = Number(pkg.engines.node.match(/(\d+)/)?.[1]);
    expect(major).toBeGreaterThanOrEqual(minimum);
  });
});

describe('fly.toml', () => {
  const fly = parseToml(read('fly.toml')) as {
    deploy: { release_command: string };
    env: Record<string, string>;
    http_service: { internal_port: number; checks: { path: string }[] };
  };

  it('migrates as the release step with a script package.json has', () => {
    expect(fly.deploy.release_command).toBe('npm run db:migrate');
    expect(pkg.scripts['db:migrate']).toBeTruthy();
  });

  it('routes to the port the app listens on and checks a route the app serves', () => {
    const exposed = instructions.find((i) => i.op === 'EXPOSE')?.args[0];
    expect(String(fly.http_service.internal_port)).toBe(fly.env.PORT);
    expect(exposed).toBe(fly.env.PORT);
    expect(fly.http_service.checks.map((c) => c.path)).toEqual(['/readyz']);
    expect(fly.env.NODE_ENV).toBe('production');
  });
});

describe('docs/deploy.md', () => {
  it('names every variable a production start requires', () => {
    const result = parseConfig({ FLEETWARDEN_MODE: 'production' });
    expect(result.ok).toBe(false);
    const required = [
      ...new Set(
        (result.ok ? '' : result.message).match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+(?=:)/g) ?? [],
      ),
    ];
    expect(required).toEqual(expect.arrayContaining(['DATABASE_URL', 'FLY_API_TOKEN']));
    const page = read('docs/deploy.md');
    for (const name of required) expect(page, name).toContain(`\`${name}\``);
  });
});

describe('two processes starting on one fresh database', () => {
  it('migrate it once between them, neither failing', async () => {
    const adminUrl = inject('pgAdminUrl');
    const name = `fw_deploy_${process.pid}_${Date.now()}`;
    await adminQuery(adminUrl, [`create database ${name}`]);
    const url = withDatabase(adminUrl, name);
    const [a, b] = await Promise.all([
      connect({ kind: 'postgres', url }, { maxConnections: 2 }),
      connect({ kind: 'postgres', url }, { maxConnections: 2 }),
    ]);
    try {
      await Promise.all([migrate(a), migrate(b)]);
      const rows = await queryRows<{ n: number }>(
        a.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const journal = JSON.parse(read('db/migrations/meta/_journal.json')) as {
        entries: unknown[];
      };
      expect(rows[0]?.n).toBe(journal.entries.length);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]);
    }
  });
});
