// A command runs as the leader of its own process group (spawn `detached`), with stdout and
// stderr both on its append-only log file: the kernel appends every write, so the log is
// complete even if the controller dies, and a cancel reaches every process the command
// started by signalling the group (kill(-pgid)). POSIX only.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export type Launch = {
  argv: string[];
  cwd: string | null;
  env: Record<string, string>;
  /** Written to stdin, which then closes; null: stdin is /dev/null. */
  stdin: string | null;
  /** The output log, opened for appending. */
  logPath: string;
};

/** Spawns `launch` detached; `'spawn'` or `'error'` on the child says whether it started. */
export function launch(l: Launch): ChildProcess {
  const fd = openSync(l.logPath, 'a');
  try {
    const [file, ...args] = l.argv;
    const child = spawn(file as string, args, {
      cwd: l.cwd ?? undefined,
      env: l.env,
      detached: true,
      stdio: [l.stdin === null ? 'ignore' : 'pipe', fd, fd],
    });
    if (l.stdin !== null && child.stdin) {
      // A command that exits without reading its stdin closes the pipe: not our error.
      child.stdin.on('error', () => {});
      child.stdin.end(l.stdin);
    }
    return child;
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }
}

/**
 * True while any process of group `pgid` is alive. A zombie does not count: it runs nothing
 * and writes nothing, and an orphan's zombie waits for PID 1 to reap it (slowly, or never
 * when PID 1 is not an init). Linux reads /proc; elsewhere kill(-pgid, 0) answers, zombies
 * included (EPERM: it exists, not ours to signal).
 */
export function groupAlive(pgid: number): boolean {
  const members = procGroup(pgid);
  if (members !== null) return members > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Live (not zombie) processes of group `pgid` from /proc; null without a readable /proc. */
function procGroup(pgid: number): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let n = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // After the command name's last ')': state (field 3), ppid, pgrp (field 5).
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z' && state !== 'X') n++;
  }
  return n;
}

function signal(pgid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pgid, name);
  } catch {
    // ESRCH: the group is gone already.
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ends process group `pgid`: SIGTERM, then SIGKILL once `graceMs` passed with any process
 * of it left. Resolves true when the group is gone, false if it outlived SIGKILL by 5 s (a
 * process stuck in the kernel).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  signal(pgid, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < killAt) await wait(Math.min(50, graceMs));
  if (!groupAlive(pgid)) return true;
  signal(pgid, 'SIGKILL');
  const giveUpAt = Date.now() + 5000;
  while (groupAlive(pgid) && Date.now() < giveUpAt) await wait(20);
  return !groupAlive(pgid);
}

/** This boot of the host (Linux), so a pid recorded before a reboot is never signalled. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (Linux /proc/<pid>/stat field 22):
 * with the pid it names one process, so a reused pid is told apart. Null when unreadable.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
