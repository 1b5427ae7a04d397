// `yinling backup` / `yinling restore`: the whole database as one file, without pg_dump (the embedded
// PostgreSQL ships no client tools, and an offline machine may have none).
//
// A backup is a gzipped tar: manifest.json (format, the migrations the schema was at, every table with
// its columns and row count, every sequence's position) and one file per table in COPY text format,
// all read in one REPEATABLE READ transaction, so the tables are consistent with each other while
// ingestion and the engines go on. Generated columns are left out (PostgreSQL recomputes them).
// The inbox history is in the database itself (ingest_files with content hashes, quarantine with the
// raw lines, row_history with every replaced version): a restored installation recognises a file it
// has loaded before and keeps the history of every correction.
//
// A restore goes into an empty database only: it applies the migrations the backup was taken at,
// loads every table with triggers off (session_replication_role = replica: the rows were checked when
// first written, and the append-only and lifecycle triggers must not refuse history), sets the
// sequences, then applies the newer migrations of this version — so a backup of an older release is
// upgraded on the way in — and refreshes the materialized rollups.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import * as tar from 'tar';
import type { Pool, PoolClient } from '../core/db/pool.ts';
import { MIGRATIONS_DIR, migrate, schemaVersion, MIGRATIONS_TABLE } from '../core/db/migrate.ts';
import { HttpError } from '../core/errors.ts';
import { shanghaiIso } from '../core/time.ts';

export const BACKUP_FORMAT = 'yinling-backup/1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  created_at: string;
  migrations: string[];
  timescale: boolean;
  tables: { name: string; columns: string[]; rows: number; file: string }[];
  sequences: { name: string; last_value: string | null }[];
}

const ident = (s: string) => '"' + s.replaceAll('"', '""') + '"';

/** The schema's own tables (not the migrations' bookkeeping, not TimescaleDB's internal chunks). */
async function tables(c: PoolClient): Promise<{ name: string; columns: string[] }[]> {
  const r = await c.query(
    `SELECT c.relname AS name,
            array(SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                   ORDER BY a.attnum)::text[] AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $1
      ORDER BY c.relname`,
    [MIGRATIONS_TABLE]
  );
  return r.rows;
}

/** Write a consistent backup of the database to `file`; returns its manifest. */
export async function backupDatabase(pool: Pool, file: string): Promise<BackupManifest> {
  const work = fs.mkdtempSync(path.join(path.dirname(path.resolve(file)), '.yinling-backup-'));
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const migrations = (await c.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)).rows.map((r) => r.name as string);
    if (!migrations.length) throw new HttpError(400, 'the database has no schema yet: nothing to back up', 'empty_database');
    const ts = await c.query(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS ts`);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      created_at: shanghaiIso(new Date()),
      migrations,
      timescale: ts.rows[0].ts,
      tables: [],
      sequences: []
    };
    fs.mkdirSync(path.join(work, 'tables'));
    for (const t of await tables(c)) {
      const rel = `tables/${t.name}.copy`;
      const stream = c.query(copyTo(`COPY (SELECT ${t.columns.map(ident).join(', ')} FROM ${ident(t.name)}) TO STDOUT`));
      await pipeline(stream, fs.createWriteStream(path.join(work, rel)));
      manifest.tables.push({ ...t, rows: stream.rowCount, file: rel });
    }
    const seq = await c.query(`SELECT sequencename AS name, last_value::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`);
    manifest.sequences = seq.rows;
    await c.query('COMMIT');
    fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 1));
    const tmp = `${file}.part`;
    await tar.c({ gzip: true, file: tmp, cwd: work, portable: true }, ['manifest.json', 'tables']);
    fs.renameSync(tmp, file); // a backup file that exists is complete
    return manifest;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function migrationFiles(): string[] {
  return fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

/** Read and check a backup file's manifest (extracting it into `dir`). */
async function readBackup(file: string, dir: string): Promise<BackupManifest> {
  if (!fs.existsSync(file)) throw new HttpError(400, `no backup file ${file}`, 'no_file');
  try {
    await tar.x({ file, cwd: dir, strict: true });
  } catch (e) {
    throw new HttpError(400, `${file} is not a Yinling backup (${(e as Error).message})`, 'not_a_backup');
  }
  const m = path.join(dir, 'manifest.json');
  if (!fs.existsSync(m)) throw new HttpError(400, `${file} is not a Yinling backup (no manifest.json)`, 'not_a_backup');
  const manifest = JSON.parse(fs.readFileSync(m, 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw new HttpError(400, `${file}: unknown backup format ${manifest.format}`, 'not_a_backup');
  const ours = migrationFiles();
  const unknown = manifest.migrations.filter((name, i) => ours[i] !== name);
  if (unknown.length)
    throw new HttpError(
      400,
      `${file} was taken at schema ${manifest.migrations.at(-1)}, which this version does not have (${unknown[0]}): restore it with the release that made it`,
      'newer_backup'
    );
  return manifest;
}

/**
 * Restore a backup into the empty database at `url` (no schema yet). Returns the manifest and the
 * migrations applied after the load (the upgrade from the backup's schema to this version's).
 */
export async function restoreDatabase(
  url: string,
  pool: Pool,
  file: string,
  log: (m: string) => void = () => {},
  /**
   * schemaDir: build the backup's schema from these migration files (the release that took it) instead of
   * this version's first ones; upgrade false: stop there, before this version's newer migrations.
   */
  opts: { schemaDir?: string; upgrade?: boolean } = {}
): Promise<{ manifest: BackupManifest; upgraded: string[] }> {
  const current = await schemaVersion(pool);
  if (current)
    throw new HttpError(
      409,
      `the database is not empty (schema ${current}): restore into a new one (an empty DATABASE_URL, or a new YINLING_DATA_DIR)`,
      'not_empty'
    );
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-restore-'));
  try {
    const manifest = await readBackup(file, work);
    log(`restore: backup of ${manifest.created_at}, schema ${manifest.migrations.at(-1)}, ${manifest.tables.length} tables`);
    await migrate(url, log, { count: manifest.migrations.length, dir: opts.schemaDir });
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica').catch(() => {
        throw new HttpError(403, 'restoring needs a database superuser (to load history past the append-only triggers)', 'not_superuser');
      });
      await c.query(`TRUNCATE ${manifest.tables.map((t) => ident(t.name)).join(', ')}`);
      for (const t of manifest.tables) {
        const stream = c.query(copyFrom(`COPY ${ident(t.name)} (${t.columns.map(ident).join(', ')}) FROM STDIN`));
        await pipeline(fs.createReadStream(path.join(work, t.file)), stream);
        if (stream.rowCount !== t.rows) throw new Error(`restore: ${t.name} loaded ${stream.rowCount} rows, the backup has ${t.rows}`);
      }
      for (const s of manifest.sequences)
        await c.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [ident(s.name), s.last_value ?? 1, s.last_value !== null]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
    const upgraded = opts.upgrade === false ? [] : await migrate(url, log);
    return { manifest, upgraded };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
