// A verifiable audit trail and the workbench on the command line (issue 15 §11, §13): every alert action
// is an audit event in a hash chain that concurrent writers cannot fork; `yinling audit verify` names the
// first tampered event (exit 1) after a superuser disabled the append-only trigger and edited a row; the
// CLI's alerts / recovery / audit commands exit 0 done, 1 refused, 2 bad usage — one line, no stack trace.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { audit } from '../core/audit.ts';
import { verifyAuditChain } from '../core/workflow/audit-chain.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';
import { workbenchUsers } from './workbench-helpers.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';

let db: TestDatabase;
let alertId: number;
const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], {
    encoding: 'utf8',
    // as in production: the workbench commands connect as the application role (migration 0039)
    env: { ...process.env, DATABASE_URL: db.url, YINLING_APP_DATABASE_URL: db.appUrl },
    timeout: 60_000
  });

beforeAll(async () => {
  db = await freshDatabase();
  await workbenchUsers(db.pool);
  const id = pid('1940-05-05');
  await person(db.pool, id);
  await enroll(db.pool, id);
  await pay(db.pool, id, '2024-06', '2025-05', '3000.00');
  await insert(db.pool, 'deaths', [
    { record_id: 'D-A', id_number: id, death_date: '2025-02-10', source: 'civil_affairs', recorded_at: '2025-04-25T10:00:00+08:00' }
  ]);
  await runDetectRisk(db.pool, { asOf: '2025-06-15', mode: 'full' });
  alertId = Number((await db.pool.query(`SELECT alert_id FROM alerts`)).rows[0].alert_id);
});
afterAll(async () => {
  await db?.drop();
});

describe('the workbench CLI', { timeout: 300_000 }, () => {
  it('works an alert with exit 0, refuses with exit 1 and one line, and says usage with exit 2', () => {
    const ok = cli(['alerts', 'transition', String(alertId), 'acknowledge', '--by', 'auditor-a']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/acknowledge → acknowledged \(version 2\)/);
    const staff = cli(['alerts', 'transition', String(alertId), 'investigate', '--by', 'staff-d']);
    expect(staff.status).toBe(1);
    expect(staff.stderr).toMatch(/^yinling alerts: the workbench is for auditors and admins; role staff/);
    expect(staff.stderr).not.toMatch(/\n\s+at /);
    const stale = cli(['alerts', 'transition', String(alertId), 'investigate', '--by', 'auditor-b', '--version', '1']);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/changed by auditor-a at .* — reload/);
    expect(cli(['alerts', 'transition', String(alertId), 'fly', '--by', 'auditor-a']).status).toBe(2);
    const rec = cli(['recovery', 'record', String(alertId), '--amount', '10', '--method', 'cash', '--by', 'auditor-a']);
    expect(rec.status).toBe(1);
    expect(rec.stderr).toMatch(/no amount due/);
    const list = cli(['alerts', 'list', '--json']);
    expect(list.status, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout);
    expect(rows[0]).toMatchObject({ alert_id: alertId, status: 'acknowledged', priority: 'P1' });
    expect(rows[0].id_number).toContain('*');
  });
});

describe('the hash-chained audit log', { timeout: 300_000 }, () => {
  it('chains concurrent writers into one line', async () => {
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => audit(db.pool, { type: 'system', name: 'test' }, 'test.concurrent', String(i), { i }))
    );
    const forks = await db.pool.query(`SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1`);
    expect(forks.rows).toEqual([]);
    const r = await verifyAuditChain(db.pool);
    expect(r.firstBad).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.events).toBeGreaterThan(24);
  });

  it('verifies events whose text holds tabs, newlines, backslashes and non-ASCII (read as COPY text), and finds a change in one', async () => {
    const awkward = { note: 'a\tb\nc\\d "e" \r\u000b\u0008\f 银龄 \u{1F600}', path: 'C:\\new\\table' };
    await audit(db.pool, { type: 'staff', name: 'tab\there', ip: '10.0.0.1' }, 'test.awkward', 'line\nbreak\\', awkward);
    await audit(db.pool, { type: 'system', name: 'test' }, 'test.after', null, {});
    expect((await verifyAuditChain(db.pool)).ok).toBe(true);
    const id = Number((await db.pool.query(`SELECT audit_id FROM audit_log WHERE action = 'test.awkward'`)).rows[0].audit_id);
    await db.pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    try {
      // one character of the detail changed (\n → \r inside a string): the verification must see it
      await db.pool.query(
        `UPDATE audit_log SET detail = jsonb_set(detail, '{note}', to_jsonb(replace(detail->>'note', E'\\n', E'\\r'))) WHERE audit_id = $1`,
        [id]
      );
      const r = await verifyAuditChain(db.pool);
      expect(r.ok).toBe(false);
      expect(r.firstBad).toMatchObject({ auditId: id, problem: 'content_changed' });
    } finally {
      await db.pool.query(`UPDATE audit_log SET detail = $2::jsonb WHERE audit_id = $1`, [id, JSON.stringify(awkward)]);
      await db.pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    }
    expect((await verifyAuditChain(db.pool)).ok).toBe(true);
  });

  it('`audit verify` passes an intact log and names the first tampered event after a superuser edit', async () => {
    const good = cli(['audit', 'verify']);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/audit chain verified: \d+ events/);
    const target = Number((await db.pool.query(`SELECT audit_id FROM audit_log WHERE action = 'alert.acknowledge'`)).rows[0].audit_id);
    await expect(db.pool.query(`UPDATE audit_log SET actor = 'someone-else' WHERE audit_id = $1`, [target])).rejects.toThrow(/append-only/);
    // a superuser steps around the append-only trigger
    await db.pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await db.pool.query(`UPDATE audit_log SET actor = 'someone-else' WHERE audit_id = $1`, [target]);
    await db.pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    const bad = cli(['audit', 'verify']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`^yinling audit: audit event ${target} \\(alert.acknowledge by someone-else\\): its content does not match its hash`)
    );
    // re-hashing the edited row moves the break to the next event, which names it
    await db.pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await db.pool.query(
      `UPDATE audit_log SET hash = audit_log_hash(prev_hash, audit_id, at, actor_type, actor, action, subject, detail, ip) WHERE audit_id = $1`,
      [target]
    );
    await db.pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    const r = await verifyAuditChain(db.pool);
    expect(r.ok).toBe(false);
    expect(r.firstBad).toMatchObject({
      problem: 'chain_broken',
      message: expect.stringMatching(new RegExp(`does not match event ${target}`))
    });
  });

  it('exports the trail with its hashes', () => {
    const ex = cli(['audit', 'export', '--format', 'json']);
    expect(ex.status, ex.stderr).toBe(0);
    const rows = JSON.parse(ex.stdout) as Record<string, string>[];
    expect(rows.some((x) => x.action === 'alert.acknowledge')).toBe(true);
    expect(rows.every((x) => /^[0-9a-f]{64}$/.test(x.hash))).toBe(true);
  });
});
