// The generated synthetic city (tiny scale) ingested end to end and checked against its ground truth:
// per-feed counts, every planted bad row quarantined at its line, unreadable files, duplicates,
// corrections, rows of unknown persons — and a re-delivery of the whole inbox changes nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEEDS } from '../jobs/ingest/feeds.ts';
import { ingestInbox, runIngestJob, type IngestSummary } from '../jobs/ingest/index.ts';
import { generateCity, type GroundTruth } from '../seeds/generator/index.ts';
import { freshDatabase, type TestDatabase } from './db.ts';

let db: TestDatabase;
let dir: string;
let inbox: string;
let truth: GroundTruth;
let summary: IngestSummary;
const log = () => {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-city-'));
  const generated = path.join(dir, 'generated');
  truth = await generateCity({ scale: 'tiny', seed: 1, outDir: generated });
  inbox = path.join(dir, 'inbox');
  fs.cpSync(generated, inbox, { recursive: true, preserveTimestamps: true });
  db = await freshDatabase();
  const job = await runIngestJob(db.pool, { inbox, log });
  expect(job.status).toBe('ok');
  summary = job.summary!;
});
afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const fileOf = (rel: string) => rel.split('/').pop()!;

describe('ingest of the generated city (tiny)', () => {
  it('matches the ground-truth counts per feed (duplicate files read 0 rows)', () => {
    for (const feed of FEEDS.map((f) => f.feed)) {
      const t = truth.counts[feed as keyof GroundTruth['counts']] as { rows: number; valid: number; quarantined: number; keys: number };
      const dupRows = truth.duplicateFiles.filter((d) => d.feed === feed).length ? t.rows - (summary.byFeed[feed]?.read ?? 0) : 0;
      const mine = summary.byFeed[feed];
      expect(mine, feed).toBeDefined();
      expect(mine.read + dupRows, feed).toBe(t.rows);
      expect(mine.quarantined, feed).toBe(t.quarantined);
      expect(mine.loaded + mine.replaced + dupRows, feed).toBe(t.valid);
      expect(mine.read).toBe(mine.loaded + mine.replaced + mine.quarantined);
    }
  });

  it('quarantines exactly the planted bad rows, at their lines', async () => {
    const rows = (await db.pool.query(`SELECT feed, file_name, line_no, reason_code, raw_line FROM quarantine WHERE line_no IS NOT NULL`))
      .rows;
    const mine = rows.map((r) => `${r.feed}/${r.file_name}:${r.line_no}`).sort();
    const expected = truth.quarantine.map((q) => `${q.feed}/${fileOf(q.file)}:${q.line}`).sort();
    expect(mine).toEqual(expected);
    // The contract's reason kinds, refined: timestamps, catalogue codes and field counts have their own codes.
    const refined: Record<string, string[]> = {
      bad_date: ['bad_date', 'bad_timestamp'],
      unknown_enum: ['unknown_enum', 'unknown_code'],
      bad_csv: ['bad_csv', 'field_count']
    };
    for (const q of truth.quarantine) {
      const r = rows.find((x) => x.feed === q.feed && x.file_name === fileOf(q.file) && x.line_no === q.line)!;
      expect(refined[q.reason_kind] ?? [q.reason_kind], `${q.file}:${q.line} ${q.note}`).toContain(r.reason_code);
      expect(r.raw_line.length).toBeGreaterThan(0);
    }
  });

  it('rejects the unreadable files whole and keeps them, ignores .part, skips the duplicate', async () => {
    const rejected = (
      await db.pool.query(`SELECT q.feed, q.file_name, q.reason_code FROM quarantine q WHERE line_no IS NULL ORDER BY 1, 2`)
    ).rows;
    expect(rejected).toEqual(
      truth.unreadableFiles
        .map((u) => ({ feed: u.feed, file_name: fileOf(u.file), reason_code: u.reason_kind }))
        .sort((a, b) => (a.feed < b.feed ? -1 : 1))
    );
    for (const u of truth.unreadableFiles) expect(fs.existsSync(path.join(inbox, '.rejected', u.file))).toBe(true);
    for (const f of truth.ignoredFiles) expect(fs.existsSync(path.join(inbox, f.file))).toBe(true);
    expect(summary.files.filter((f) => f.status === 'duplicate').map((f) => `${f.feed}/${f.file}`)).toEqual(
      truth.duplicateFiles.map((d) => d.file)
    );
    const extra = summary.files
      .filter((f) => f.unknownColumns.length)
      .map((f) => ({ feed: f.feed, file: `${f.feed}/${f.file}`, columns: f.unknownColumns }));
    expect(extra).toEqual(expect.arrayContaining(truth.extraColumns));
    expect(extra).toHaveLength(truth.extraColumns.length);
  });

  it('applies the corrections and keeps the replaced versions', async () => {
    for (const c of truth.corrections) {
      const col = c.field === 'updated_at' ? `to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS')` : `coalesce(${c.field}::text, '')`;
      const r = (await db.pool.query(`SELECT ${col} AS v FROM ${c.feed} WHERE id_number = $1`, [c.key])).rows[0];
      expect(r?.v, `${c.key}.${c.field}`).toBe(c.final_value);
    }
    const keys = [...new Set(truth.corrections.map((c) => c.key))];
    const h = (await db.pool.query(`SELECT DISTINCT natural_key FROM row_history WHERE feed = 'persons'`)).rows.map((r) => r.natural_key);
    expect(h.sort()).toEqual(keys.sort());
  });

  it('keeps rows of unknown persons and resolves those whose person arrived', () => {
    expect(summary.unresolvedPersonRefs).toBe(truth.unknownPersonRows.filter((r) => r.resolved_by === null).length);
  });

  it('a re-delivery of the whole inbox changes nothing', async () => {
    const before = (
      await db.pool.query(
        `SELECT (SELECT count(*) FROM payments) p, (SELECT count(*) FROM quarantine) q, (SELECT count(*) FROM ingest_files) f, (SELECT count(*) FROM row_history) h`
      )
    ).rows[0];
    const again = path.join(dir, 'again');
    fs.cpSync(path.join(dir, 'generated'), again, { recursive: true });
    const s = await ingestInbox(db.pool, { inbox: again, log });
    expect(s.totals).toMatchObject({ read: 0, loaded: 0, replaced: 0, quarantined: 0, filesLoaded: 0 });
    expect(s.totals.filesDuplicate + s.totals.filesRejected).toBe(s.files.length);
    const after = (
      await db.pool.query(
        `SELECT (SELECT count(*) FROM payments) p, (SELECT count(*) FROM quarantine) q, (SELECT count(*) FROM ingest_files) f, (SELECT count(*) FROM row_history) h`
      )
    ).rows[0];
    expect(after).toEqual(before);
  });
});
