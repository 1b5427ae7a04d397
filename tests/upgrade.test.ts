// Upgrade (issue 19 §13): the previous release's database — the tiny city ingested and run through that
// release's engines, with a staff account, a kiosk token and an acknowledged alert, as that release's own
// `yinling backup` wrote it (tests/fixtures/upgrade, remade at each release by make-fixture.sh, which
// says which commit in SOURCE) — is restored into an empty database on that release's own schema (its
// migration files, kept in the fixture), then migrated to this version's schema: every table keeps its
// rows and every money column its sum, the audit chain still verifies, the application role may work on
// it, and the engines run on the upgraded database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ROOT } from '../core/config.ts';
import { migrate, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../core/db/migrate.ts';
import type { Pool } from '../core/db/pool.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { verifyAuditChain } from '../core/workflow/audit-chain.ts';
import { restoreDatabase } from '../jobs/backup.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { freshDatabase, type TestDatabase } from './db.ts';

const FIXTURE = path.join(ROOT, 'tests', 'fixtures', 'upgrade');

let db: TestDatabase;
let work: string;
beforeAll(async () => {
  db = await freshDatabase({ empty: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-upgrade-'));
  await tar.x({ file: path.join(FIXTURE, 'migrations.tar.gz'), cwd: work, strict: true });
});
afterAll(async () => {
  await db?.drop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const ident = (s: string) => '"' + s.replaceAll('"', '""') + '"';
const migrationFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();

interface Snapshot {
  /** table → row count */
  rows: Record<string, number>;
  /** "table.column" → the exact sum of a numeric (money) column, as text */
  sums: Record<string, string | null>;
}

/** Every table's rows and every numeric column's exact sum. */
async function snapshot(pool: Pool): Promise<Snapshot> {
  const cols = await pool.query(
    `SELECT c.relname AS t,
            array(SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'numeric'::regtype
                   ORDER BY a.attnum)::text[] AS money
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $1
      ORDER BY 1`,
    [MIGRATIONS_TABLE]
  );
  const out: Snapshot = { rows: {}, sums: {} };
  for (const { t, money } of cols.rows as { t: string; money: string[] }[]) {
    const r = await pool.query(
      `SELECT count(*)::int AS n${money.map((m, i) => `, sum(${ident(m)})::text AS s${i}`).join('')} FROM ${ident(t)}`
    );
    out.rows[t] = r.rows[0].n;
    money.forEach((m, i) => (out.sums[`${t}.${m}`] = r.rows[0][`s${i}`]));
  }
  return out;
}

describe('upgrading the previous release', () => {
  it('migrates its database to this schema with nothing lost, and the engines run on it', async () => {
    const source = fs.readFileSync(path.join(FIXTURE, 'SOURCE'), 'utf8');
    const schemaDir = path.join(work, 'sql', 'migrations');
    const old = migrationFiles(schemaDir);
    const current = migrationFiles(MIGRATIONS_DIR);
    // the fixture is of an earlier schema than this one (else it tests no upgrade: remake it from the last release)
    expect(current.slice(0, old.length)).toEqual(old);
    expect(current.length).toBeGreaterThan(old.length);
    expect(source).toContain(`schema ${old.at(-1)}.sql`);

    // the previous release's database: its schema from its own files, its rows as its backup holds them
    const { manifest, upgraded } = await restoreDatabase(db.url, db.pool, path.join(FIXTURE, 'backup.tar.gz'), () => {}, {
      schemaDir,
      upgrade: false
    });
    expect(upgraded).toEqual([]);
    expect(manifest.migrations).toEqual(old);
    const before = await snapshot(db.pool);
    expect(before.rows).toEqual(Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows])));
    // a city, not an empty shell: people, payments with money, engine results, workflow and its audit trail
    for (const t of ['persons', 'payments', 'alerts', 'alert_transitions', 'audit_log', 'staff_users', 'kiosk_tokens', 'job_runs'])
      expect(before.rows[t], t).toBeGreaterThan(0);
    expect(Number(before.sums['payments.amount'])).toBeGreaterThan(0);

    // the upgrade, as `yinling up` does it: this version's newer migrations, then the catalogues
    const applied = await migrate(db.url);
    expect(applied).toEqual(current.slice(old.length));
    const after = await snapshot(db.pool);
    for (const [t, n] of Object.entries(before.rows)) expect({ table: t, rows: after.rows[t] }).toEqual({ table: t, rows: n });
    for (const [c, s] of Object.entries(before.sums)) expect({ column: c, sum: after.sums[c] }).toEqual({ column: c, sum: s });
    await loadCatalogues(db.pool);
    expect((await verifyAuditChain(db.pool)).ok).toBe(true);

    // the application role works on the upgraded database: reads the people, appends to the audit log only
    const app = new pg.Client({ connectionString: db.appUrl });
    await app.connect();
    try {
      expect((await app.query(`SELECT count(*)::int AS n FROM persons`)).rows[0].n).toBe(before.rows.persons);
      await expect(app.query(`DELETE FROM audit_log`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await app.end();
    }

    // the engines, the indicator facts and the rollups run on it
    const config = loadConfig({ ...process.env, DATABASE_URL: db.url });
    const results = [
      ...(await runWithDependents(db.pool, 'all', { config, trigger: 'manual', log: () => {} })),
      ...(await runWithDependents(db.pool, 'refresh-rollups', { config, trigger: 'manual', log: () => {} }))
    ];
    expect(results.map((r) => [r.status, r.error ?? null])).toEqual(results.map(() => ['ok', null]));
    expect(results.length).toBeGreaterThanOrEqual(3);
    const final = await snapshot(db.pool);
    // nothing the previous release recorded was lost by running on: the people, their payments, the trail
    for (const t of ['persons', 'payments', 'alert_transitions', 'staff_users', 'kiosk_tokens'])
      expect({ table: t, rows: final.rows[t] }).toEqual({ table: t, rows: before.rows[t] });
    expect(final.sums['payments.amount']).toBe(before.sums['payments.amount']);
    expect(final.rows.audit_log).toBeGreaterThanOrEqual(before.rows.audit_log);
  }, 600_000);
});
