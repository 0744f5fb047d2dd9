import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns.ts';

/** What admins (and automation acting for them) did, append-only. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid().primaryKey().defaultRandom(),
    actorType: text({ enum: ['admin', 'api_key', 'system'] }).notNull(),
    actorId: text(),
    /** The actor as shown at the time (email or key prefix), kept if the actor is deleted. */
    actorLabel: text().notNull(),
    action: text().notNull(),
    subjectType: text(),
    subjectId: text(),
    payload: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    requestId: text(),
    at: tstz().notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_at_idx').on(t.at.desc(), t.id.desc()),
    index('audit_log_actor_idx').on(t.actorId, t.at.desc()),
    index('audit_log_action_idx').on(t.action, t.at.desc()),
    index('audit_log_subject_idx').on(t.subjectType, t.subjectId, t.at.desc()),
    check('audit_log_actor_type_check', sql`${t.actorType} in ('admin', 'api_key', 'system')`),
  ],
);
