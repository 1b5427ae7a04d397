// The application's own role (issue 19 §7): the web server and the workbench services connect as
// `yinling_app`, which is no superuser — audit_log is append-only for it by privileges (INSERT and SELECT
// only), not only by a trigger, and it cannot set session_replication_role to step past the triggers. The
// embedded server gives it a login with a password of this installation's own (owner-only file) at a fresh
// start and at the first start of a cluster made before the role existed (migration 0039 grants, then).
// The web server's own work as that role: dashboard/e2e/app-role.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ROOT } from '../core/config.ts';
import { audit } from '../core/audit.ts';
import { openDatabase } from '../core/db/connect.ts';
import { APP_PASSWORD_FILE, APP_ROLE, embeddedAppPassword, scratchDir, startEmbeddedPostgres } from '../core/db/embedded.ts';
import { migrate, MIGRATIONS_DIR } from '../core/db/migrate.ts';
import { verifyAuditChain } from '../core/workflow/audit-chain.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { freePort } from './free-port.ts';

/** The SQLSTATE a statement fails with (null when it succeeds). */
async function failsWith(client: pg.Client | pg.Pool, sql: string): Promise<string | null> {
  try {
    await client.query(sql);
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).message;
  }
}

/** What the application role may not do to audit_log, and may: each answer is a SQLSTATE or null (done). */
async function auditLogAsApp(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const who = (
      await c.query(`SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su,
                            (SELECT count(*)::int FROM audit_log) AS n`)
    ).rows[0];
    await audit(c, { type: 'system', name: 'app-role-test' }, 'test.append', 'audit_log', { ok: true });
    const appended = (await c.query(`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n - who.n;
    return {
      user: who.u,
      superuser: who.su,
      appended,
      update: await failsWith(c, `UPDATE audit_log SET actor = 'forged'`),
      delete: await failsWith(c, `DELETE FROM audit_log`),
      truncate: await failsWith(c, `TRUNCATE audit_log`),
      replicationRole: await failsWith(c, `SET session_replication_role = replica`),
      disableTrigger: await failsWith(c, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`),
      migrationsWrite: await failsWith(c, `DELETE FROM schema_migrations`),
      // its ordinary work: read and write the workflow's tables
      readWrite: await failsWith(c, `UPDATE staff_users SET display_name = display_name WHERE false`)
    };
  } finally {
    await c.end();
  }
}

const REFUSED = {
  user: APP_ROLE,
  superuser: false,
  appended: 1,
  update: '42501', // insufficient_privilege: refused by the privileges, before any trigger
  delete: '42501',
  truncate: '42501',
  replicationRole: '42501',
  disableTrigger: '42501',
  migrationsWrite: '42501',
  readWrite: null
};

describe('the application role on the test server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('may append to audit_log and read it, and nothing else there; cannot switch the triggers off', async () => {
    expect(await auditLogAsApp(db.appUrl)).toEqual(REFUSED);
    // what it appended is chained like every other event
    expect((await verifyAuditChain(db.pool)).ok).toBe(true);
  });

  it('is what the workbench and accounts commands connect as, given DATABASE_URL and YINLING_APP_DATABASE_URL', () => {
    const cli = (args: string[], appUrl: string) =>
      spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: db.url, YINLING_APP_DATABASE_URL: appUrl },
        timeout: 60_000
      });
    const wrong = new URL(db.appUrl);
    wrong.password = 'not-its-password';
    for (const args of [
      ['audit', 'verify'],
      ['alerts', 'list'],
      ['user', 'list'],
      ['export', 'alerts']
    ]) {
      const ok = cli(args, db.appUrl);
      expect({ args, status: ok.status, stderr: ok.stderr }).toMatchObject({ args, status: 0 });
      // the proof that they use it: its login refused, they fail
      const refused = cli(args, wrong.toString());
      expect({ args, status: refused.status }).toEqual({ args, status: 1 });
      expect(refused.stderr).toMatch(/password authentication failed for user "yinling_app"/);
    }
  }, 300_000);
});

describe('the embedded server', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const configFor = async (dir: string) => ({
    ...loadConfig({ ...process.env, DATABASE_URL: '', YINLING_APP_DATABASE_URL: '', YINLING_DATA_DIR: dir }),
    embeddedPgPort: await freePort()
  });

  it('gives the application role a login of its own at a fresh start', async () => {
    const dir = scratchDir('yinling-app-role-');
    dirs.push(dir);
    const db = await openDatabase({ config: await configFor(dir), migrate: true, as: 'app' });
    try {
      expect(db.appRole).toBe(true);
      const password = embeddedAppPassword(dir)!;
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(fs.statSync(path.join(dir, APP_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
      expect(new URL(db.appUrl).username).toBe(APP_ROLE);
      expect((await db.pool.query(`SELECT current_user AS u`)).rows[0].u).toBe(APP_ROLE);
      expect(await auditLogAsApp(db.appUrl)).toEqual(REFUSED);
    } finally {
      await db.close();
    }
  }, 180_000);

  it('creates it on the next start of a cluster made before it existed, and the upgrade grants', async () => {
    const dir = scratchDir('yinling-app-role-old-');
    dirs.push(dir);
    const config = await configFor(dir);
    // as an earlier release left it: the schema before migration 0039, no application role, no password file
    const before = fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}_.*\.sql$/.test(f))
      .sort()
      .findIndex((f) => f.startsWith('0039_'));
    const old = await startEmbeddedPostgres({ dir, port: config.embeddedPgPort });
    try {
      await migrate(old.url, () => {}, { count: before });
      const c = new pg.Client({ connectionString: old.url });
      await c.connect();
      try {
        await c.query(`DROP ROLE ${APP_ROLE}`);
        await audit(c, { type: 'system', name: 'earlier-release' }, 'test.old', 'audit_log', {});
      } finally {
        await c.end();
      }
    } finally {
      await old.stop();
    }
    fs.rmSync(path.join(dir, APP_PASSWORD_FILE));

    const db = await openDatabase({ config, migrate: true });
    try {
      expect(db.appRole).toBe(true);
      expect(fs.statSync(path.join(dir, APP_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
      expect(await auditLogAsApp(db.appUrl)).toEqual(REFUSED);
      const rows = await db.pool.query(`SELECT action FROM audit_log ORDER BY audit_id`);
      expect(rows.rows.map((r) => r.action)).toEqual(['test.old', 'test.append']);
    } finally {
      await db.close();
    }
  }, 180_000);
});
