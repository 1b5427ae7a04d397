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
