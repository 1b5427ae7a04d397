// The one writer of the append-only audit log. Every state change and every unmasked view of
// personal data goes through here, whoever makes it: the web app, the CLI or an engine.
import type { Queryable } from './db/pool.ts';

export interface Actor {
  type: 'staff' | 'kiosk' | 'resident' | 'operator' | 'system';
  name: string;
  ip?: string;
}

export async function audit(
  db: Queryable,
  actor: Actor,
  action: string,
  subject: string | null,
  detail: Record<string, unknown> = {}
): Promise<void> {
  await db.query(`INSERT INTO audit_log (actor_type, actor, action, subject, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`, [
    actor.type,
    actor.name,
    action,
    subject,
    JSON.stringify(detail),
    actor.ip ?? null
  ]);
}

/**
 * audit() in the same statement as the change it records, one round trip instead of two: `change` is
 * one data-modifying statement that returns one row (INSERT … RETURNING …); the returned columns named
 * in `merge` (plain identifiers written in code, never input) are added to the detail. The audit row is
 * written by the same INSERT as audit()'s, so the chaining trigger treats it the same.
 */
export async function auditWith(
  db: Queryable,
  change: { sql: string; values: unknown[]; merge?: string[] },
  actor: Actor,
  action: string,
  subject: string | null,
  detail: Record<string, unknown> = {}
): Promise<void> {
  const n = change.values.length;
  const merge = change.merge ?? [];
  for (const c of merge) if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`auditWith: not a column name: ${c}`);
  const extra = merge.length ? ` || jsonb_build_object(${merge.map((c) => `'${c}', change.${c}`).join(', ')})` : '';
  const r = await db.query(
    `WITH change AS (${change.sql})
     INSERT INTO audit_log (actor_type, actor, action, subject, detail, ip)
     SELECT $${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::jsonb${extra}, $${n + 6} FROM change`,
    [...change.values, actor.type, actor.name, action, subject, JSON.stringify(detail), actor.ip ?? null]
  );
  if (r.rowCount !== 1) throw new Error(`auditWith: the change returned ${r.rowCount} rows, not one`);
}
