import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBLEM_TYPES } from '../../routes/problems.tsx';

/** Every .ts/.tsx file under `dir` (the local stand-ins left out: they answer as Fly does). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'dev-servers' ? [] : sources(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The problem codes our errors are thrown with: kebab-case strings inside `new …Error(…)`. */
function thrownCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of [...sources('src'), ...sources('routes')]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/new (?:App|Conflict|Unprocessable)Error\(/g)) {
      let depth = 1;
      let at = (match.index ?? 0) + match[0].length;
      const start = at;
      while (depth > 0 && at < text.length) {
        if (text[at] === '(') depth++;
        else if (text[at] === ')') depth--;
        at++;
      }
      for (const code of text.slice(start, at).matchAll(/'([a-z]+(?:-[a-z]+)+)'/g))
        if (code[1]) codes.set(code[1], file);
    }
  }
  return codes;
}

describe('problem type pages (RFC 9457 §3.1.1: a type URI is its documentation)', () => {
  it('exist for every code an error is thrown with', () => {
    const codes = thrownCodes();
    expect(codes.size).toBeGreaterThan(30);
    const missing = [...codes].filter(([code]) => !PROBLEM_TYPES[code]);
    expect(missing).toEqual([]);
  });
});
