import { Hono } from 'hono';
import { z } from 'zod';
import { auditActions, listAudit } from '../../src/audit/audit.ts';
import { AuditPage } from '../../views/pages/audit.tsx';
import { type AppEnv, zoneOf } from '../env.ts';
import { htmlValidator } from './validate.ts';

const opt = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().max(max).optional());

export const AuditQuery = z.object({
  actor: opt(320),
  action: opt(100),
  subjectType: opt(50),
  subjectId: opt(100),
  cursor: opt(1000),
});

/** Console: the audit log with filters and keyset pages. */
export function auditRoutes() {
  return new Hono<AppEnv>().get('/', htmlValidator('query', AuditQuery), async (c) => {
    const { db } = c.get('deps');
    const q = c.req.valid('query');
    const [page, actions] = await Promise.all([listAudit(db, q), auditActions(db)]);
    const { cursor: _, ...query } = q;
    return c.render(
      <AuditPage
        rows={page.items}
        next={page.next}
        prev={page.prev}
        query={query}
        actions={actions}
        zone={zoneOf(c)}
        readAt={c.get('deps').clock.now()}
      />,
      { title: 'Audit log', active: 'audit' },
    );
  });
}
