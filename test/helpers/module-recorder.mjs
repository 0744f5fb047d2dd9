// A Node module-resolution hook (node:module `register`, run in Node's hooks thread):
// appends every file: URL the process resolves, one per line, to the file named by
// FLEETWARDEN_RECORD_MODULES. test/helpers/module-graph.ts registers it after tsx, so it
// runs first and records tsx's final answer. Plain JavaScript: hooks load before tsx can
// transform anything for them.
import { appendFileSync } from 'node:fs';

const out = process.env.FLEETWARDEN_RECORD_MODULES;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (out && result.url.startsWith('file:')) appendFileSync(out, `${result.url}\n`);
  return result;
}
