// One delivered file → one transaction: the ingest_files row (loading → loaded), the rows COPYed (streamed,
// with backpressure), the quarantine rows, the merge, the counts. A load killed part-way leaves nothing;
// the file stays in the inbox and the next run loads it whole. After COMMIT the file moves to .done/ (a
// crash between the two is harmless: the next run knows the content hash and only moves it).
//
// Files are known by the SHA-256 of their content. The hash is computed while the rows stream (one read of
// the file); only when a file of the same size is already recorded — the only way this one can be a
// duplicate — is it fingerprinted first, so that a duplicate is skipped without being parsed. A duplicate
// discovered at the end (a race, a file rewritten meanwhile) rolls the load back.
//
// Two ways to land the rows, same result:
//  * direct — COPY straight into the feed table. Used when the table has a unique index on exactly the
//    natural key (plain PostgreSQL), so any key already present (or repeated in the file) stops the COPY with
//    a unique violation; the loader then rolls back to a savepoint and takes the staging way. New data —
//    nearly every delivery — thus costs one COPY. A TimescaleDB hypertable too: its unique index also holds
//    the time column, so a key delivered again for another time (or twice in the file) gets through the COPY;
//    a check afterwards (directCopyClean) finds those and sends the file the staging way.
//  * staging — COPY into a temporary table, then the set-based merge of merge-sql.ts (corrections,
//    re-deliveries, TimescaleDB hypertables whose unique index also holds the time column). Hypertables
//    take the keyed merge: the staged keys are looked up first and only the rows found are touched, by
//    constant keys (merge-sql.ts says why: compressed chunks).
// If PostgreSQL still refuses a row the validator let through (a data error names the COPY line), that row
// is quarantined as `db_rejected` and the file is loaded again without it (bounded retries).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { stat as fsStat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import type { DatabaseError } from 'pg';
import type { Pool, PoolClient } from '../../core/db/pool.ts';
import { CsvScanner, type CsvRecord } from './csv.ts';
import {
  ENCODING_PROBLEM,
  NotTextError,
  decodedChunks,
  dynamicEncodingCheck,
  firstLine,
  newReadInfo,
  probeFile,
  type FileEncoding,
  type FileProbe,
  type ReadInfo
} from './encoding.ts';
import type { FeedDef } from './feeds.ts';
import { DONE_DIR, REJECTED_DIR, moveAside, prepareAside, type InboxFile } from './inbox.ts';
import { deleteStatements, feedSql, keyedSql, type ChangedRow, type FeedSql, type KeyedSql } from './merge-sql.ts';
import { QuarantineSink } from './quarantine.ts';
import { FileRejection, RowProcessor, type Catalogues, type FileReasonCode } from './rows.ts';
import type { Problem } from './values.ts';

export interface IngestHooks {
  /** Called after each chunk of a file went to COPY (tests: throw, or terminate the backend, to kill a load). */
  onChunk?(info: { feed: string; file: string; rowsSoFar: number; backendPid: number; mode: 'direct' | 'staging' }): void | Promise<void>;
}

export interface FileResult {
  feed: string;
  file: string;
  /** Where the file is now (.done/…, .rejected/…), or the inbox path if it could not be moved. */
  path: string;
  fileId: number | null;
  /** deferred: the file changed while it was being loaded; nothing was kept and it stays for the next run. */
  status: 'loaded' | 'rejected' | 'duplicate' | 'deferred';
  reason?: string;
  reasonCode?: FileReasonCode;
  encoding?: FileEncoding;
  mode?: 'direct' | 'staging';
  read: number;
  loaded: number;
  replaced: number;
  quarantined: number;
  unchanged: number;
  unknownColumns: string[];
  quarantineByCode: Record<string, number>;
  durationMs: number;
}

export interface LoadEnv {
  pool: Pool;
  inbox: string;
  catalogues: Catalogues;
  runId: number | null;
  log: (m: string) => void;
  /** Per table: may rows be COPYed straight in (a unique index on exactly the natural key)? */
  direct: Map<string, boolean>;
  /** Per table: loaded the hypertables' way (direct COPY checked afterwards, keyed merge)? null: the joined merge. */
  keyed: Map<string, KeyedTable | null>;
  hooks?: IngestHooks;
  /** Force the staging way (tests). */
  staging?: boolean;
}

const MAX_DB_REFUSALS = 25;
const COPY_HIGH_WATER = 4 << 20;
const SLICE_BYTES = 128 << 10;

const sqlCache = new Map<string, FeedSql>();
function sqlFor(feed: FeedDef): FeedSql {
  let s = sqlCache.get(feed.feed);
  if (!s) sqlCache.set(feed.feed, (s = feedSql(feed)));
  return s;
}

/** Does the table have a unique index on exactly the natural key (so a COPY straight in cannot duplicate a key)? */
export async function canCopyDirect(pool: Pool, feed: FeedDef): Promise<boolean> {
  const r = await pool.query(
    `SELECT EXISTS (
       SELECT 1 FROM pg_index i
        WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) = $2::text[]) AS ok`,
    [feed.table, [...feed.key].sort()]
  );
  return r.rows[0].ok === true;
}

/**
 * A table merged by the keyed merge: a hypertable with its time column, or (tests) a plain table, with the
 * column that plays that part or none.
 */
export interface KeyedTable {
  timeColumn: string | null;
  hypertable: boolean;
}

/** The time column of a TimescaleDB hypertable, or null for a plain table (or plain PostgreSQL). */
export async function hypertableTimeColumn(pool: Pool, table: string): Promise<string | null> {
  const ts = await pool.query(`SELECT yinling_has_timescale() AS ts`);
  if (!ts.rows[0].ts) return null;
  // dynamic on purpose: the catalog view does not exist on plain PostgreSQL
  const r = await pool.query(
    `SELECT d.column_name::text AS col FROM timescaledb_information.dimensions d
      WHERE format('%I.%I', d.hypertable_schema, d.hypertable_name)::regclass = $1::regclass AND d.dimension_number = 1`,
    [table]
  );
  return r.rows[0]?.col ?? null;
}

const keyedCache = new Map<string, KeyedSql>();
function keyedFor(feed: FeedDef, timeColumn: string | null): KeyedSql {
  const id = `${feed.feed}\0${timeColumn}`;
  let s = keyedCache.get(id);
  if (!s) keyedCache.set(id, (s = keyedSql(feed, timeColumn)));
  return s;
}

function zero(file: InboxFile, extra: Partial<FileResult>): FileResult {
  return {
    feed: file.feed,
    file: file.name,
    path: file.path,
    fileId: null,
    status: 'duplicate',
    read: 0,
    loaded: 0,
    replaced: 0,
    quarantined: 0,
    unchanged: 0,
    unknownColumns: [],
    quarantineByCode: {},
    durationMs: 0,
    ...extra
  };
}

function isDbError(e: unknown): e is DatabaseError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && 'severity' in e;
}

/** SQLSTATE classes of errors caused by the data (not by the server or the connection). */
function isDataError(e: DatabaseError): boolean {
  return e.code!.startsWith('22') || (e.code!.startsWith('23') && e.code !== '23505');
}

function copyLineOf(e: DatabaseError): number | null {
  const m = /COPY [^,]+, line (\d+)/.exec(e.where ?? '');
  return m ? Number(m[1]) : null;
}

function drained(stream: CopyStreamQuery): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      cleanup();
      resolve();
    };
    const fail = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', fail);
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', fail);
  });
}

interface PassResult {
  valid: number;
  read: number;
  quarantined: number;
  unknownColumns: string[];
  sink: QuarantineSink;
  info: ReadInfo;
  /** Smallest and largest day of the hypertable's time column (a direct COPY into a hypertable). */
  days: { min: string; max: string } | null;
}

/** Stream the file through the scanner and row processor into one COPY. */
async function copyPass(
  client: PoolClient,
  env: LoadEnv,
  feed: FeedDef,
  file: InboxFile,
  fileId: number,
  mode: 'direct' | 'staging',
  exclude: Map<number, Problem>,
  refuse: { row: number; problem: Problem } | null
): Promise<PassResult> {
  const sql = sqlFor(feed);
  if (mode === 'staging') await client.query(sql.createStage);
  const sink = new QuarantineSink(fileId, feed.feed, file.name);
  const info = newReadInfo();
  let proc: RowProcessor | null = null;
  const onRecord = (rec: CsvRecord) => {
    if (proc) return proc.process(rec);
    if (rec.error) throw new FileRejection('not_csv', `the header row is not valid CSV: ${rec.error}`);
    if (rec.badEncoding)
      throw new FileRejection('not_csv', `the header row is not valid ${info.encoding === 'gb18030' ? 'GB18030' : 'UTF-8'} text`);
    const names: string[] = [];
    for (let k = 0; k < rec.count; k++) names.push(rec.buf.toString('utf8', rec.starts[k], rec.ends[k]));
    proc = new RowProcessor(feed, names, env.catalogues, fileId, sink, {
      encodingProblem: () => ENCODING_PROBLEM[info.encoding ?? 'utf-8'],
      exclude,
      refuseCopyRow: refuse ? { ...refuse, onLine: (line) => exclude.set(line, refuse.problem) } : undefined,
      trackDays: mode === 'direct' ? (env.keyed.get(feed.table)?.timeColumn ?? undefined) : undefined
    });
    if (proc.unknownColumns.length)
      env.log(
        `ingest: ${feed.feed}/${file.name}: ignoring unknown column${proc.unknownColumns.length > 1 ? 's' : ''} ${proc.unknownColumns.join(', ')}`
      );
  };
  const copy = client.query(copyFrom(mode === 'direct' ? sql.directCopy : sql.stageCopy, { highWaterMark: COPY_HIGH_WATER }));
  let copyError: Error | null = null;
  copy.on('error', (e) => {
    copyError ??= e;
  });
  const scanner = new CsvScanner(onRecord, dynamicEncodingCheck(info));
  try {
    for await (const chunk of decodedChunks(file.path, info)) {
      if (copyError) break;
      // Small slices, handed to the socket one by one with a turn of the event loop in between: the kernel's
      // socket buffer is small, so PostgreSQL would otherwise sit idle while a whole chunk is parsed.
      for (let off = 0; off < chunk.length && !copyError; off += SLICE_BYTES) {
        scanner.push(chunk.subarray(off, off + SLICE_BYTES));
        if (proc) {
          for (const b of (proc as RowProcessor).drain()) if (!copy.write(b)) await drained(copy);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      if (proc) {
        if (env.hooks?.onChunk)
          await env.hooks.onChunk({
            feed: feed.feed,
            file: file.name,
            rowsSoFar: (proc as RowProcessor).counts.valid,
            backendPid: (client as unknown as { processID: number }).processID,
            mode
          });
      }
    }
    if (!copyError) scanner.end();
    if (!copyError && !proc) throw new FileRejection('empty_file', 'the file has no header row (it is empty or blank)');
    if (!copyError) for (const b of (proc as unknown as RowProcessor).drain()) if (!copy.write(b)) await drained(copy);
    if (copyError) throw copyError;
    copy.end();
    await finished(copy);
  } catch (caught) {
    sink.dispose();
    const e = caught instanceof NotTextError ? new FileRejection(caught.code, caught.message) : caught;
    const fromServer = copyError;
    if (!fromServer && !copy.destroyed && !copy.writableFinished) {
      // Our side failed mid-COPY (header rejected, a hook threw): CopyFail, and wait until the server answered.
      const closed = once(copy, 'close').catch(() => {});
      copy.destroy(e instanceof Error ? e : new Error(String(e)));
      await Promise.race([closed, new Promise((r) => setTimeout(r, 60_000).unref())]);
    }
    throw fromServer ?? e;
  }
  const p = proc as unknown as RowProcessor;
  return {
    valid: p.counts.valid,
    read: p.counts.read,
    quarantined: p.counts.quarantined,
    unknownColumns: p.unknownColumns,
    sink,
    info,
    days: p.days()
  };
}

/** The general merge of a staged file; returns how many rows replaced an earlier version and how many were unchanged. */
async function mergeStaged(
  client: PoolClient,
  feed: FeedDef,
  fileId: number,
  valid: number
): Promise<{ replaced: number; unchanged: number }> {
  const sql = sqlFor(feed);
  const params = [fileId, feed.feed];
  if (valid >= 1000) await client.query(sql.analyzeStage);
  const dups = (await client.query(sql.findDups)).rowCount ?? 0;
  let replaced = 0;
  if (dups > 0) {
    await client.query(sql.seq);
    replaced += (await client.query(sql.historyInFile, params)).rowCount ?? 0;
    await client.query(sql.keepFirst);
    await client.query(sql.dropSuperseded);
    replaced += (await client.query(sql.historyFirstVsTable, params)).rowCount ?? 0;
  }
  const d = await client.query(sql.deleteChanged, params);
  replaced += d.rows[0].n;
  const inserted = (await client.query(sql.insertNew)).rowCount ?? 0;
  const newKeys = inserted - d.rows[0].deleted;
  const loaded = valid - replaced;
  return { replaced, unchanged: loaded - newKeys };
}

/** Chunks of a hypertable holding compressed data (fully or partly compressed). */
async function compressedChunks(client: PoolClient, table: string): Promise<Set<string>> {
  const r = await client.query(
    `SELECT format('%I.%I', c.chunk_schema, c.chunk_name)::regclass::text AS chunk FROM timescaledb_information.chunks c
      WHERE format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = $1::regclass AND c.is_compressed`,
    [table]
  );
  return new Set(r.rows.map((x) => x.chunk as string));
}

/** Statements sent per round trip by the keyed merge's deletes (simple protocol, several statements at once). */
const DELETES_PER_TRIP = 200;

/**
 * The keyed merge of a staged file (hypertables; merge-sql.ts): probe the staged keys, history, delete the rows
 * found changed by constant keys chunk by chunk, insert what is new or changed. Same counts as mergeStaged.
 */
async function mergeKeyed(
  client: PoolClient,
  feed: FeedDef,
  fileId: number,
  valid: number,
  table: KeyedTable
): Promise<{ replaced: number; unchanged: number }> {
  const sql = sqlFor(feed);
  const ks = keyedFor(feed, table.timeColumn);
  const params = [fileId, feed.feed];
  if (valid >= 1000) await client.query(sql.analyzeStage);
  const dups = (await client.query(sql.findDups)).rowCount ?? 0;
  const bounds = (await client.query(ks.stageBounds)).rows[0];
  await client.query(ks.probe(bounds.lo, bounds.hi));
  let replaced = 0;
  if (dups > 0) {
    await client.query(sql.seq);
    replaced += (await client.query(sql.historyInFile, params)).rowCount ?? 0;
    await client.query(sql.keepFirst);
    await client.query(sql.dropSuperseded);
    replaced += (await client.query(ks.historyFirstVsHit, params)).rowCount ?? 0;
  }
  await client.query(ks.changed);
  await client.query(ks.same);
  replaced += (await client.query(ks.historyChanged, params)).rowCount ?? 0;
  const rows = (await client.query(ks.changedRows)).rows as ChangedRow[];
  let deleted = 0;
  if (rows.length) {
    const compressed = table.hypertable ? await compressedChunks(client, feed.table) : new Set<string>();
    // Each statement opens only the batches holding its keys; the per-transaction limit on decompressed rows
    // (100 000 by default) guards against statements that would open everything, which these are not.
    if (rows.some((r) => compressed.has(r.chunk)))
      await client.query(`SET LOCAL timescaledb.max_tuples_decompressed_per_dml_transaction = 0`);
    const stmts = deleteStatements(feed.table, feed.key[0], table.timeColumn, rows, (c) => compressed.has(c));
    for (let i = 0; i < stmts.length; i += DELETES_PER_TRIP) {
      const res = (await client.query(stmts.slice(i, i + DELETES_PER_TRIP).join(';\n'))) as unknown as
        { rowCount: number | null } | { rowCount: number | null }[];
      for (const r of Array.isArray(res) ? res : [res]) deleted += r.rowCount ?? 0;
    }
    if (deleted !== rows.length) throw new Error(`${feed.table}: the merge deleted ${deleted} rows for ${rows.length} changed ones`);
  }
  const inserted = (await client.query(ks.insert)).rowCount ?? 0;
  const newKeys = inserted - deleted;
  const loaded = valid - replaced;
  return { replaced, unchanged: loaded - newKeys };
}

/**
 * After a direct COPY into a hypertable: did the file bring only keys the table did not have, each once? (Its
 * unique index holds the time column, so it refused only a key repeated for the same time.) The file's rows are
 * found by file_id within the days its time column spans — a day more on either side: a timestamp's written date
 * and its instant may differ by the UTC offset — so only the chunks of those days are read. Then the table is
 * read between the file's smallest and largest key, as constants (compressed batches outside that range are
 * skipped): usually nothing but the file's own rows is there (a new month), and only when something is, the keys
 * are compared one by one.
 */
async function directCopyClean(client: PoolClient, feed: FeedDef, fileId: number, timeColumn: string, pass: PassResult): Promise<boolean> {
  if (!pass.days) return false;
  const ks = keyedFor(feed, timeColumn);
  const from = addDays(pass.days.min, -1),
    to = addDays(pass.days.max, 2);
  const f = (await client.query(ks.directRows(from, to), [fileId])).rows[0];
  if (f.n !== pass.valid) return false; // not where the days say: let the staging merge sort it out
  const found = async (sql: string) => (await client.query(sql, [fileId])).rows[0].found as boolean;
  if (await found(ks.directOthers(f.lo, f.hi))) return !(await found(ks.directConflicts(f.lo, f.hi)));
  return !(await found(ks.directRepeats(from, to)));
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

class DuplicateAfterLoad extends Error {}
/** The file's size or modification time changed while it was read: a writer is still at it. */
class ChangedWhileLoading extends Error {}

async function duplicate(env: LoadEnv, file: InboxFile, fileId: number, status: string, started: number): Promise<FileResult> {
  const moved = await moveAside(env.inbox, file, status === 'loaded' ? DONE_DIR : REJECTED_DIR, fileId);
  env.log(`ingest: ${file.feed}/${file.name}: same content as file ${fileId} (already ${status}); nothing to do`);
  return zero(file, { fileId, status: 'duplicate', path: moved ?? file.path, durationMs: Date.now() - started });
}

async function rejectFile(
  env: LoadEnv,
  file: InboxFile,
  probe: FileProbe | null,
  reuseId: number | null,
  code: FileReasonCode,
  message: string,
  started: number
): Promise<FileResult> {
  const { pool } = env;
  const raw = probe && !probe.notText ? await firstLine(file.path, probe.encoding).catch(() => null) : null;
  await prepareAside(env.inbox, file.feed, REJECTED_DIR);
  const client = await pool.connect();
  let fileId: number | null;
  try {
    await client.query('BEGIN');
    if (reuseId !== null) {
      await client.query(`DELETE FROM quarantine WHERE file_id = $1 AND line_no IS NULL`, [reuseId]);
      await client.query(
        `UPDATE ingest_files SET feed = $2, file_name = $3, status = 'rejected', reason = $4, run_id = $5, received_at = now(), loaded_at = NULL,
                rows_read = 0, rows_loaded = 0, rows_replaced = 0, rows_quarantined = 0 WHERE file_id = $1`,
        [reuseId, file.feed, file.name, message, env.runId]
      );
      fileId = reuseId;
    } else {
      const r = await client.query(
        `INSERT INTO ingest_files (feed, file_name, content_sha256, size_bytes, encoding, status, reason, run_id)
         VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7) ON CONFLICT (content_sha256) DO NOTHING RETURNING file_id`,
        [
          file.feed,
          file.name,
          probe?.sha256 ?? `unreadable:${file.path}:${Date.now()}`,
          probe?.size ?? file.size,
          probe && !probe.notText ? probe.encoding : null,
          message,
          env.runId
        ]
      );
      fileId = r.rows[0] ? Number(r.rows[0].file_id) : null;
    }
    if (fileId !== null) {
      await client.query(
        `INSERT INTO quarantine (file_id, feed, file_name, line_no, raw_line, reason, reason_code) VALUES ($1, $2, $3, NULL, $4, $5, $6)`,
        [fileId, file.feed, file.name, raw, message, code]
      );
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  const moved = await moveAside(env.inbox, file, REJECTED_DIR, fileId);
  env.log(`ingest: ${file.feed}/${file.name}: rejected (${code}): ${message}`);
  return zero(file, {
    fileId,
    status: 'rejected',
    reason: message,
    reasonCode: code,
    path: moved ?? file.path,
    encoding: probe?.encoding,
    durationMs: Date.now() - started
  });
}

/**
 * Ingest one file. `feed` is null for a folder that is not a feed. Returns null when the file vanished.
 * The content hash is computed while the rows stream; a separate fingerprinting pass (probeFile) only runs
 * when a file of the same size is already recorded — the only way this one can be a duplicate.
 * An error (the database's disk full, the connection lost, the inbox's disk full…) names the file: the run's
 * error then says which file did not go through.
 */
export async function loadFile(env: LoadEnv, feed: FeedDef | null, file: InboxFile): Promise<FileResult | null> {
  try {
    return await loadOneFile(env, feed, file);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const name = `${file.feed}/${file.name}`;
    if (err.message.includes(name)) throw err;
    throw Object.assign(new Error(`${name}: ${err.message}`, { cause: err }), { code: (err as { code?: unknown }).code });
  }
}

async function loadOneFile(env: LoadEnv, feed: FeedDef | null, file: InboxFile): Promise<FileResult | null> {
  const started = Date.now();
  const { pool, log } = env;
  let probe: FileProbe | null = null;
  const fingerprint = async () => (probe ??= await probeFile(file.path));
  let size: number;
  try {
    size = (await fs.promises.stat(file.path)).size;
    const sameSize = await pool.query(`SELECT 1 FROM ingest_files WHERE size_bytes = $1 LIMIT 1`, [size]);
    if (sameSize.rowCount || !feed || size === 0) await fingerprint();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let reuseId: number | null = null;
  if (probe) {
    const p = probe as FileProbe;
    const known = await pool.query(`SELECT file_id, feed, status FROM ingest_files WHERE content_sha256 = $1`, [p.sha256]);
    if (known.rows[0]) {
      const k = known.rows[0];
      if (k.status === 'loaded' || k.feed === file.feed) return duplicate(env, file, Number(k.file_id), k.status, started);
      reuseId = Number(k.file_id); // rejected before under another folder (e.g. an unknown feed): judge it again here
    }
    if (!feed)
      return rejectFile(env, file, p, reuseId, 'unknown_feed', `"${file.feed}" is not a feed folder (feeds: see docs/feeds.md)`, started);
    if (p.notText)
      return rejectFile(
        env,
        file,
        p,
        reuseId,
        p.size === 0 ? 'empty_file' : p.badEncoding ? 'bad_encoding' : 'not_csv',
        p.notText,
        started
      );
  }
  if (!feed) throw new Error('unreachable');

  await prepareAside(env.inbox, file.feed, DONE_DIR);
  const client = await pool.connect();
  const onClientError = (e: Error) => log(`ingest: connection lost while loading ${file.feed}/${file.name}: ${e.message}`);
  client.on('error', onClientError);
  let broken: Error | undefined;
  const found: { dup: { fileId: number; status: string } | null } = { dup: null };
  let result: FileResult | null = null;
  let rejection: FileRejection | null = null;
  let changed = false;
  try {
    await client.query(`SET TIME ZONE 'Asia/Shanghai'`);
    await client.query(`SET temp_buffers = '256MB'`).catch(() => {}); // only possible before the session's first temp table
    await client.query('BEGIN');
    let fileId: number;
    if (reuseId !== null) {
      await client.query(`DELETE FROM quarantine WHERE file_id = $1 AND line_no IS NULL`, [reuseId]);
      await client.query(
        `UPDATE ingest_files SET feed = $2, file_name = $3, status = 'loading', reason = NULL, encoding = $4, run_id = $5, received_at = now() WHERE file_id = $1`,
        [reuseId, file.feed, file.name, (probe as FileProbe | null)?.encoding ?? null, env.runId]
      );
      fileId = reuseId;
    } else {
      // Without a fingerprint yet the row carries a placeholder hash until the rows have streamed (same transaction).
      const r = await client.query(
        `INSERT INTO ingest_files (feed, file_name, content_sha256, size_bytes, encoding, status, run_id)
         VALUES ($1, $2, $3, $4, $5, 'loading', $6) ON CONFLICT (content_sha256) DO NOTHING RETURNING file_id`,
        [
          file.feed,
          file.name,
          probe ? (probe as FileProbe).sha256 : `pending:${randomUUID()}`,
          size,
          probe ? (probe as FileProbe).encoding : null,
          env.runId
        ]
      );
      if (!r.rows[0]) {
        // the same content was just recorded by a concurrent run
        await client.query('ROLLBACK');
        return zero(file, { status: 'duplicate', durationMs: Date.now() - started });
      }
      fileId = Number(r.rows[0].file_id);
    }
    // A hypertable (keyed, with a time column) is COPYed straight in too; its unique index holds the time column,
    // so a key delivered again for another time, or twice in the file, is not refused by it: directCopyClean
    // checks that afterwards, and sends the file the staging way if needed.
    const hyper = env.keyed.get(feed.table)?.timeColumn ?? null;
    let mode: 'direct' | 'staging' = !env.staging && (env.direct.get(feed.table) || hyper) ? 'direct' : 'staging';
    const exclude = new Map<number, Problem>();
    let refuse: { row: number; problem: Problem } | null = null;
    let pass: PassResult | null = null;
    for (let attempt = 0; !pass; attempt++) {
      await client.query('SAVEPOINT ingest_file');
      try {
        pass = await copyPass(client, env, feed, file, fileId, mode, exclude, refuse);
      } catch (e) {
        if (e instanceof FileRejection || !isDbError(e)) throw e;
        await client.query('ROLLBACK TO SAVEPOINT ingest_file');
        if (e.code === '23505' && mode === 'direct') {
          mode = 'staging';
          continue;
        }
        const line = copyLineOf(e);
        if (isDataError(e) && line !== null && attempt < MAX_DB_REFUSALS) {
          refuse = {
            row: line,
            problem: { code: 'db_rejected', message: `PostgreSQL refused the row: ${e.message}${e.detail ? ` (${e.detail})` : ''}` }
          };
          log(`ingest: ${file.feed}/${file.name}: PostgreSQL refused a row (${e.message}); quarantining it and loading the file again`);
          continue;
        }
        if (isDataError(e)) throw new FileRejection('db_rejected', `PostgreSQL refused the file: ${e.message}`);
        throw e;
      }
      if (mode === 'direct' && hyper && pass.valid > 0 && !(await directCopyClean(client, feed, fileId, hyper, pass))) {
        await client.query('ROLLBACK TO SAVEPOINT ingest_file');
        pass.sink.dispose();
        pass = null;
        mode = 'staging';
      }
    }
    let replaced = 0,
      unchanged = 0;
    try {
      await pass.sink.writeTo(client);
      if (mode === 'staging' && pass.valid > 0) {
        const keyed = env.keyed.get(feed.table);
        ({ replaced, unchanged } = keyed
          ? await mergeKeyed(client, feed, fileId, pass.valid, keyed)
          : await mergeStaged(client, feed, fileId, pass.valid));
      }
    } catch (e) {
      if (isDbError(e) && isDataError(e)) throw new FileRejection('db_rejected', `PostgreSQL refused the file: ${e.message}`);
      throw e;
    } finally {
      pass.sink.dispose();
    }
    const loaded = pass.valid - replaced;
    if (!probe) {
      // The content hash is known now. The same content recorded meanwhile (another run, a file changed under
      // us) is a unique violation: nothing of this load is kept and the file counts as a duplicate.
      await client.query('SAVEPOINT ingest_hash');
      try {
        await client.query(`UPDATE ingest_files SET content_sha256 = $2 WHERE file_id = $1`, [fileId, pass.info.sha256]);
      } catch (e) {
        if (!isDbError(e) || e.code !== '23505') throw e;
        await client.query('ROLLBACK');
        const k = (await pool.query(`SELECT file_id, status FROM ingest_files WHERE content_sha256 = $1`, [pass.info.sha256])).rows[0];
        found.dup = k ? { fileId: Number(k.file_id), status: k.status } : { fileId: 0, status: 'loaded' };
        throw new DuplicateAfterLoad();
      }
    }
    // A file still being written (no `.part`) must not be loaded in part and moved away: compare what was
    // read with the file as it is now, and keep nothing if it changed.
    const now = await fsStat(file.path).catch(() => null);
    if (!now || now.size !== file.size || now.mtimeMs !== file.mtimeMs || pass.info.size !== file.size) throw new ChangedWhileLoading();
    await client.query(
      `UPDATE ingest_files SET status = 'loaded', encoding = $7, size_bytes = $8, rows_read = $2, rows_loaded = $3, rows_replaced = $4,
              rows_quarantined = $5, unknown_columns = $6, loaded_at = clock_timestamp() WHERE file_id = $1`,
      [
        fileId,
        pass.read,
        loaded,
        replaced,
        pass.quarantined,
        pass.unknownColumns.length ? pass.unknownColumns : null,
        pass.info.encoding,
        pass.info.size
      ]
    );
    await client.query('COMMIT');
    result = {
      feed: feed.feed,
      file: file.name,
      path: file.path,
      fileId,
      status: 'loaded',
      encoding: pass.info.encoding ?? undefined,
      mode,
      read: pass.read,
      loaded,
      replaced,
      quarantined: pass.quarantined,
      unchanged,
      unknownColumns: pass.unknownColumns,
      quarantineByCode: Object.fromEntries(pass.sink.byCode),
      durationMs: 0
    };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof FileRejection) rejection = e;
    else if (e instanceof ChangedWhileLoading) changed = true;
    else if (!(e instanceof DuplicateAfterLoad)) broken = e instanceof Error ? e : new Error(String(e));
  } finally {
    client.off('error', onClientError);
    client.release(broken);
  }
  if (broken) throw broken;
  if (changed) {
    log(
      `ingest: ${file.feed}/${file.name}: the file changed while it was being loaded (still being written?); nothing kept, it will be loaded on a later run`
    );
    return zero(file, { fileId: null, status: 'deferred', path: file.path, durationMs: Date.now() - started });
  }
  if (found.dup) return duplicate(env, file, found.dup.fileId, found.dup.status, started);
  if (rejection) return rejectFile(env, file, await fingerprint(), reuseId, rejection.code, rejection.message, started);
  const r = result!;
  const moved = await moveAside(env.inbox, file, DONE_DIR, r.fileId).catch((e) => {
    log(
      `ingest: ${file.feed}/${file.name}: loaded, but could not move it to ${DONE_DIR}/ (${(e as Error).message}); the next run will move it`
    );
    return null;
  });
  r.path = moved ?? file.path;
  r.durationMs = Date.now() - started;
  log(
    `ingest: ${file.feed}/${file.name}: read ${r.read}, loaded ${r.loaded} (unchanged ${r.unchanged}), replaced ${r.replaced}, quarantined ${r.quarantined}` +
      ` [${r.encoding}, ${r.mode}, ${(r.durationMs / 1000).toFixed(1)} s]`
  );
  return r;
}
