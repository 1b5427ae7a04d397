import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { migrate, schemaVersion } from '../core/db/migrate.ts';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { alertRuleNames } from '../core/reference/index.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('schema', () => {
  it('is migrated to the newest version with catalogues loaded', async () => {
    expect(await schemaVersion(db.pool)).toMatch(/^\d{4}_/);
    const r = await db.pool.query(
      `SELECT (SELECT count(*) FROM ref_evidence_sources) AS sources, (SELECT count(*) FROM ref_schemes) AS schemes`
    );
    expect(Number(r.rows[0].sources)).toBeGreaterThanOrEqual(20);
    expect(Number(r.rows[0].schemes)).toBe(7);
  });
  it('names every risk rule the alerts table accepts, in Chinese and English, and no other', async () => {
    const r = await db.pool.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'alerts'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%rule%'`
    );
    const accepted = [...String(r.rows[0].def).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(accepted.length).toBeGreaterThanOrEqual(7);
    expect([...alertRuleNames.keys()].sort()).toEqual(accepted);
    for (const n of alertRuleNames.values()) expect(n.name_zh && n.name_en, n.rule).toBeTruthy();
  });
  it('has no monthly rollups nobody reads (migration 0020)', async () => {
    const r = await db.pool.query(
      `SELECT to_regclass('payments_monthly') AS p, to_regclass('evidence_monthly') AS e, to_regclass('subsidies_monthly') AS s`
    );
    expect(r.rows[0]).toEqual({ p: null, e: null, s: null });
    expect((await db.pool.query(`SELECT view_name, kind FROM rollup_registry`)).rows).toEqual([
      { view_name: 'region_paths', kind: 'materialized_view' }
    ]);
  });
  it('is on the path the test run claims to cover', async () => {
    const r = await db.pool.query(`SELECT yinling_has_timescale() AS ts, current_setting('TimeZone') AS tz`);
    expect(r.rows[0].tz).toBe('Asia/Shanghai');
    expect(r.rows[0].ts).toBe(inject('pgTimescale'));
  });
});

describe('migrate says which path a database is on, and why', () => {
  // Migrating an empty database on the test server, as its owner — a superuser, and as a role that is not
  // one (which cannot read shared_preload_libraries, nor create timescaledb): one line each, and the path
  // the line names is the one the database is on.
  const migrateAs = async (role: string | null) => {
    const adminUrl = inject('pgAdminUrl');
    const name = 'yinling_m_' + randomBytes(5).toString('hex');
    const admin = createPool(adminUrl, { max: 1 });
    let url = withDatabase(adminUrl, name);
    try {
      if (role) {
        await admin.query(`DROP ROLE IF EXISTS ${role}`);
        await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'test' NOSUPERUSER`);
        await admin.query(`CREATE DATABASE ${name} OWNER ${role}`);
        const u = new URL(url);
        u.username = role;
        u.password = 'test';
        url = u.toString();
      } else {
        await admin.query(`CREATE DATABASE ${name}`);
      }
      const logs: string[] = [];
      await migrate(url, (m) => logs.push(m));
      const pool = createPool(url, { max: 1 });
      try {
        const ts = (await pool.query(`SELECT yinling_has_timescale() AS ts`)).rows[0].ts as boolean;
        return { lines: logs.filter((l) => l.startsWith('database: ')), ts };
      } finally {
        await endPool(pool);
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (role) await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await endPool(admin);
    }
  };

  it('as a superuser', async () => {
    const { lines, ts } = await migrateAs(null);
    expect(lines).toHaveLength(1);
    expect(ts).toBe(inject('pgTimescale'));
    expect(lines[0]).toMatch(ts ? /^database: TimescaleDB \d/ : /^database: plain PostgreSQL: /);
  });

  it('as a role that is not a superuser: plain PostgreSQL, and why', async () => {
    const { lines, ts } = await migrateAs('yinling_ns_' + randomBytes(4).toString('hex'));
    expect(ts).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      inject('pgTimescale')
        ? /^database: plain PostgreSQL: timescaledb is installed, but this role can neither read shared_preload_libraries nor create the extension/
        : /^database: plain PostgreSQL: /
    );
  });
});

describe('ending a pool', () => {
  // `yinling up` stops its embedded server right after ending its pool: the connections must be gone by then.
  it('returns only once the server has seen every connection close', async () => {
    const name = 'yinling-endpool-' + process.pid;
    const pool = createPool(db.url, { max: 4, applicationName: name });
    const clients = await Promise.all([1, 2, 3, 4].map(() => pool.connect()));
    await Promise.all(clients.map((c) => c.query('SELECT 1')));
    let ended = 0;
    for (const c of clients) {
      c.on('end', () => ended++);
      c.release();
    }
    const errors: string[] = [];
    pool.on('error', (e) => errors.push(e.message));
    await endPool(pool);
    expect(ended, 'connections still open when the pool said it had ended').toBe(4);
    // What a fast shutdown does to whatever is still connected.
    const cut = await db.pool.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
      name
    ]);
    expect(cut.rows[0].n).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([]);
  });
});
