export * from './agents.ts';
export * from './audit.ts';
export * from './auth.ts';
export * from './fleet.ts';
export * from './scheduler.ts';
export * from './sweep.ts';
export * from './users.ts';
