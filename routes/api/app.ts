import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.ts';
import { validationHook } from '../problem.tsx';

/** A sub-app for /api with our validation hook (each OpenAPIHono needs its own). */
export function apiApp() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
