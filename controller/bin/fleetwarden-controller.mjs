#!/usr/bin/env node
// Starts the controller (src/main.ts, TypeScript with erasable syntax only). Node 22.18+,
// 23.6+ and 24 run it as it is; an older Node (20 and up) needs tsx, found when installed
// (npm i tsx beside this package, or any node_modules above it).
if (!process.features.typescript) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error(
      'fleetwarden-controller: this Node cannot run TypeScript by itself (needs 22.18+ or 23.6+); ' +
        'install tsx beside it (npm i tsx) or run: npx tsx src/main.ts',
    );
    process.exit(1);
  }
}
await import('../src/main.ts');
