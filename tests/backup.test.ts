// Backup and restore (issue 19.13): a city ingested and run through the engines, backed up while the
// database is in use, restored into an empty database, gives exactly the same answer to every export
// and every table; history the triggers would refuse to write again (an alert past `new`, the
// append-only audit log) comes back as it was; the sequences go on after the restored ids; a file
// delivered again is recognised as loaded. A backup taken at an older schema is upgraded on the way in
// (the old alert statuses become the lifecycle's). Restore never overwrites: a database with a schema
// is refused, as is a file that is not a backup.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { loadConfig } from '../core/config.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { migrate, MIGRATIONS_DIR } from '../core/db/migrate.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { DATASETS, exportDataset } from '../jobs/exports.ts';
import { backupDatabase, restoreDatabase } from '../jobs/backup.ts';

const dbs: TestDatabase[] = [];
let source: TestDatabase;
let dir: string;
let inbox: string;

async function newDb(empty = false): Promise<TestDatabase> {
  const d = await freshDatabase({ empty });
  dbs.push(d);
  return d;
}

async function exportAll(db: TestDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(DATASETS)) {
    let text = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        text += chunk.toString();
        cb();
      }
    });
    await exportDataset(db.pool, name, { format: 'csv', out: sink, unmask: true });
    out[name] = text;
  }
  return out;
}

async function tableCounts(db: TestDatabase): Promise<Record<string, number>> {
  const t = await db.pool.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`
  );
  const counts: Record<string, number> = {};
  for (const { relname } of t.rows) counts[relname] = (await db.pool.query(`SELECT count(*)::int AS n FROM "${relname}"`)).rows[0].n;
  return counts;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-backup-test-'));
  inbox = path.join(dir, 'inbox');
  source = await newDb();
  await generateCity({ scale: 'tiny', seed: 5, outDir: inbox, asOf: '2026-11-15' });
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: source.url }), inboxDir: inbox };
  for (const r of await runWithDependents(source.pool, 'ingest', { config, inbox, asOf: '2026-11-15', trigger: 'manual', log: () => {} }))
    if (r.status === 'failed') throw new Error(`ingest: ${r.error}`);
  // history past `new`, which the insert trigger would refuse to write again
  await source.pool.query(
    `UPDATE alerts SET status = 'acknowledged', assignee = 'demo-auditor' WHERE alert_id = (SELECT min(alert_id) FROM alerts)`
  );
}, 300_000);

afterAll(async () => {
  for (const d of dbs) await d.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('yinling backup / restore', () => {
  it('round-trips a city: every export and every table the same, sequences go on, a re-delivered file is known', async () => {
    const file = path.join(dir, 'city.backup');
    const manifest = await backupDatabase(source.pool, file);
    expect(manifest.tables.find((t) => t.name === 'persons')!.rows).toBeGreaterThan(100);
    expect(manifest.tables.find((t) => t.name === 'alerts')!.columns).not.toContain('active'); // generated: recomputed

    const target = await newDb(true);
    const { upgraded } = await restoreDatabase(target.url, target.pool, file);
    expect(upgraded).toEqual([]);
    expect(await tableCounts(target)).toEqual(await tableCounts(source));
    // what `yinling restore` does next: the catalogues, and the materialized rollups (not in a backup)
    await loadCatalogues(target.pool);
    const config = { ...loadConfig({ ...process.env, DATABASE_URL: target.url }), inboxDir: inbox };
    await runWithDependents(target.pool, 'refresh-rollups', { config, trigger: 'manual', log: () => {} });
    const [a, b] = [await exportAll(source), await exportAll(target)];
    // the same, but for the restore's own refresh-rollups run in the job log
    const restoreRun = /^\d+,refresh-rollups,manual,ok,.*\n/m;
    for (const name of Object.keys(DATASETS)) expect(b[name].replace(restoreRun, ''), name).toBe(a[name]);
    const st = await target.pool.query(`SELECT status, assignee, active FROM alerts ORDER BY alert_id LIMIT 1`);
    expect(st.rows[0]).toEqual({ status: 'acknowledged', assignee: 'demo-auditor', active: true });

    const max = (await source.pool.query(`SELECT max(audit_id)::int AS m FROM audit_log`)).rows[0].m ?? 0;
    await target.pool.query(`INSERT INTO audit_log (actor_type, actor, action) VALUES ('operator', 'test', 'after-restore')`);
    const next = (await target.pool.query(`SELECT max(audit_id)::int AS m FROM audit_log`)).rows[0].m;
    expect(next).toBeGreaterThan(max);
    // the inbox history came along: the same files again load nothing
    const again = fs.mkdtempSync(path.join(dir, 'again-'));
    fs.cpSync(inbox, again, { recursive: true, filter: (p) => !p.includes(`${path.sep}.done`) });
    const moved = fs.existsSync(path.join(inbox, '.done')) ? path.join(inbox, '.done') : null;
    if (moved) fs.cpSync(moved, again, { recursive: true });
    const r = await runWithDependents(target.pool, 'ingest', { config, inbox: again, trigger: 'manual', log: () => {} });
    expect(r[0].counts).toMatchObject({ loaded: 0, replaced: 0, quarantined: 0 });
  }, 300_000);

  it('upgrades a backup of an older schema on the way in', async () => {
    const all = fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}_/.test(f))
      .sort();
    const at = all.indexOf('0020_drop_unread_rollups.sql') + 1;
    const old = await newDb(true);
    await migrate(old.url, () => {}, { count: at });
    await old.pool.query(
      `INSERT INTO alerts (rule, id_number, severity, status, close_reason, closed_at)
       VALUES ('double_receipt', '110101194001010011', 'medium', 'open', NULL, NULL),
              ('paid_after_death', '110101194001010011', 'high', 'dismissed', 'basis_disappeared: the death record was withdrawn', now())`
    );
    const file = path.join(dir, 'old.backup');
    await backupDatabase(old.pool, file);

    const target = await newDb(true);
    const { upgraded, manifest } = await restoreDatabase(target.url, target.pool, file);
    expect(manifest.migrations.at(-1)).toBe('0020_drop_unread_rollups');
    expect(upgraded[0]).toBe('0021_alert_lifecycle');
    const r = await target.pool.query(`SELECT status, disposition, active FROM alerts ORDER BY alert_id`);
    expect(r.rows).toEqual([
      { status: 'new', disposition: null, active: true },
      { status: 'closed', disposition: 'basis_disappeared', active: false }
    ]);
  }, 300_000);

  it('never overwrites: a database with a schema is refused, and so is a file that is not a backup', async () => {
    const file = path.join(dir, 'city.backup');
    if (!fs.existsSync(file)) await backupDatabase(source.pool, file);
    await expect(restoreDatabase(source.url, source.pool, file)).rejects.toThrow(/not empty \(schema \d{4}_/);
    const bogus = path.join(dir, 'bogus.backup');
    fs.writeFileSync(bogus, 'id_number,name\n');
    const target = await newDb(true);
    await expect(restoreDatabase(target.url, target.pool, bogus)).rejects.toThrow(/is not a Yinling backup/);
    await expect(restoreDatabase(target.url, target.pool, path.join(dir, 'missing.backup'))).rejects.toThrow(/no backup file/);
  }, 120_000);
});
