// What an entry loads, two ways: the modules a real Node process resolves (a resolution
// hook records them), and the static module graph Deno builds (`deno info --json`).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { type Running, run } from './process.ts';

export const DENO = 'node_modules/.bin/deno';

/** Repository-relative paths of `file:` URLs inside the repository, outside node_modules. */
export function ownModules(urls: Iterable<string>): string[] {
  const root = pathToFileURL(`${process.cwd()}/`).href;
  return [...new Set(urls)]
    .filter((u) => u.startsWith(root) && !u.includes('/node_modules/'))
    .map((u) => u.slice(root.length))
    .sort();
}

/**
 * Node with tsx (as `npm start` runs it) and the module recorder, on `args`. Call
 * `modules()` once it has done what is to be observed: the repository modules it resolved.
 */
export function runRecorded(
  args: string[],
  env: Record<string, string>,
  record: string,
): Running & { modules(): Promise<string[]> } {
  const hooks = new URL('./module-recorder.mjs', import.meta.url).href;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(hooks)});`;
  const child = run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      ...args,
    ],
    { ...env, FLEETWARDEN_RECORD_MODULES: record },
  );
  return {
    ...child,
    async modules() {
      return ownModules((await readFile(record, 'utf8')).split('\n').filter(Boolean));
    },
  };
}

type DenoModule = {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
};

export type ModuleGraph = {
  /** Repository modules the entry imports statically, transitively (no dynamic, no type-only imports). */
  staticModules: string[];
  /** Every repository module in the graph, including those only dynamically imported. */
  allModules: string[];
  /** Import edges `[from, to]` (repository paths) from outside `folder` into it, with whether each is dynamic. */
  edgesInto(folder: string): { from: string; to: string; dynamic: boolean }[];
};

/** The module graph Deno builds for `entry` (Deno Deploy bundles from it), without running it. */
export function denoGraph(entry: string): ModuleGraph {
  const info = JSON.parse(
    execFileSync(DENO, ['info', '--json', entry], {
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
      maxBuffer: 64 * 1024 * 1024,
    }),
  ) as { roots: string[]; modules: DenoModule[] };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set(info.roots);
  const queue = [...info.roots];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const dep of bySpecifier.get(next)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (!target || dep.isDynamic || seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  const path = (url: string) => ownModules([url])[0];
  return {
    staticModules: ownModules(seen),
    allModules: ownModules(info.modules.map((m) => m.specifier)),
    edgesInto(folder) {
      return info.modules.flatMap((m) => {
        const from = path(m.specifier);
        if (!from || from.startsWith(folder)) return [];
        return (m.dependencies ?? []).flatMap((d) => {
          const to = d.code ? path(d.code.specifier) : undefined;
          return to?.startsWith(folder) ? [{ from, to, dynamic: d.isDynamic === true }] : [];
        });
      });
    },
  };
}
