// The local stand-ins' tables (src/dev-servers): their own drizzle-kit stream
// (drizzle.dev.config.ts → db/dev-migrations), applied only in embedded mode and tests.
export * from './fly-simulator.ts';
export * from './outbox.ts';
export * from './qstash-emulator.ts';
