// The reference instance controller (controller/) as the tests run it: a child process
// started through its package's bin on a port it picks, with a temporary data folder and the
// fixture commands of test/controller/fixtures, driven through our own client while every
// exchange is recorded for the contract check (test/helpers/controller-contract.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  type ControllerClient,
  createControllerClient,
} from '../../src/adapters/controller/client.ts';
import { controllerToken } from '../../src/adapters/controller/token.ts';
import type { ControllerTarget } from '../../src/adapters/controller/types.ts';
import { type Exchange, recordingFetch } from './controller-contract.ts';
import { type Running, run, waitForOutput } from './process.ts';

const BIN = fileURLToPath(
  new URL('../../controller/bin/fleetwarden-controller.mjs', import.meta.url),
);
const FIXTURES = fileURLToPath(new URL('../controller/fixtures/', import.meta.url));
const SECRET = 'reference-controller-test-secret-0123456789';

/** A controller configuration file using the fixtures (CLI runs by behaviour, three agents). */
export function fixtureConfig(dir: string): string {
  const session = join(FIXTURES, 'session.sh');
  const path = join(dir, 'controller.json');
  writeFileSync(
    path,
    JSON.stringify({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, 'data'),
      gracePeriodSeconds: 1,
      cliRun: { command: ['sh', join(FIXTURES, 'cli-run.sh'), '{prompt}'] },
      sessions: {
        agents: {
          'argv-agent': { command: ['sh', session, '{prompt}'] },
          'stdin-agent': { command: ['sh', session] },
          'file-agent': { command: ['sh', session, '--file', '{promptFile}'] },
        },
      },
    }),
  );
  return path;
}

export type ControllerWorld = {
  dir: string;
  /** The bearer token the controller expects. */
  token: string;
  target: ControllerTarget;
  client: ControllerClient;
  /** A client whose token is derived from another secret. */
  wrongClient: ControllerClient;
  exchanges: Exchange[];
  url(): string;
  /** Starts a controller (another one after a restart: same data folder, new port). */
  start(env?: Record<string, string>): Promise<Running>;
};

export async function controllerWorld(): Promise<ControllerWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-controller-'));
  const config = fixtureConfig(dir);
  const target = { appName: 'agents', machineId: 'machine-1', instanceId: crypto.randomUUID() };
  const token = await controllerToken(SECRET, target.instanceId);
  const exchanges: Exchange[] = [];
  let base = '';
  const recording = recordingFetch((request) => fetch(request), '', exchanges);
  const client = (secret: string) =>
    createControllerClient({ baseUrlFor: () => base, secret, fetch: recording, timeoutMs: 5000 });
  return {
    dir,
    token,
    target,
    client: client(SECRET),
    wrongClient: client('another-secret-0123456789-0123456789'),
    exchanges,
    url: () => base,
    async start(env = {}) {
      const proc = run(process.execPath, [BIN], {
        FLEETWARDEN_CONTROLLER_TOKEN: token,
        FLEETWARDEN_CONTROLLER_CONFIG: config,
        ...env,
      });
      const listening = await waitForOutput(
        proc,
        /"msg":"controller\.listening".*?"port":(\d+)/,
        20_000,
      );
      base = `http://127.0.0.1:${listening[1]}`;
      return proc;
    },
  };
}

/** The processes of group `pgid` still there (zombies aside), as `ps` lists them. */
export function groupMembers(pgid: number): string[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      const [, group, stat] = line.split(/\s+/);
      return Number(group) === pgid && !stat?.startsWith('Z');
    });
}

/** Waits until the run's output matches `pattern`; returns the match. */
export async function outputMatching(
  w: ControllerWorld,
  runId: string,
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  let found: RegExpMatchArray | null = null;
  await expect
    .poll(
      async () => {
        const out = await w.client.getCliRunOutput(w.target, runId, 0);
        found = out.chunks
          .map((c) => c.text)
          .join('')
          .match(pattern);
        return found !== null;
      },
      { interval: 20, timeout: 10_000 },
    )
    .toBe(true);
  return found as unknown as RegExpMatchArray;
}

/**
 * Every byte of the run's output, read page by page by offset until `complete` (polling
 * while the run still writes), checking that each chunk starts where the last one ended.
 */
export async function readAllOutput(
  w: ControllerWorld,
  runId: string,
): Promise<{ text: string; bytes: number; pages: number }> {
  let offset = 0;
  let text = '';
  let pages = 0;
  for (const until = Date.now() + 20_000; Date.now() < until; ) {
    const out = await w.client.getCliRunOutput(w.target, runId, offset);
    pages++;
    for (const chunk of out.chunks) {
      expect(chunk.offset).toBe(offset);
      text += chunk.text;
      offset += Buffer.byteLength(chunk.text);
    }
    expect(out.nextOffset).toBe(offset);
    if (out.complete) return { text, bytes: offset, pages };
    if (out.chunks.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the output of ${runId} never completed (read ${offset} bytes)`);
}

/** Waits until the run's status is no longer `running`; returns the run as answered. */
export async function ended(w: ControllerWorld, runId: string) {
  await expect
    .poll(async () => (await w.client.getCliRun(w.target, runId)).status, {
      interval: 20,
      timeout: 10_000,
    })
    .not.toBe('running');
  return w.client.getCliRun(w.target, runId);
}

/** The raw body of the last recorded answer for `path` (fields our client does not keep). */
export function lastAnswer(w: ControllerWorld, path: string): Record<string, unknown> {
  const ex = w.exchanges.filter((e) => e.path === path).at(-1);
  if (!ex) throw new Error(`no exchange for ${path}`);
  return ex.response as Record<string, unknown>;
}
