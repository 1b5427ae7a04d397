// Ingestion end to end against a real PostgreSQL: hand-written inbox files in a temp dir, a fresh
// migrated database per scenario.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { makeIdNumber, toLegacy15 } from '../core/domain/id-number.ts';
import { createPool, type Pool } from '../core/db/pool.ts';
import { FEEDS } from '../jobs/ingest/feeds.ts';
import { ingestInbox, runIngestJob, type FileResult, type IngestOptions } from '../jobs/ingest/index.ts';
import { freshDatabase, type TestDatabase } from './db.ts';

const dbs: TestDatabase[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function newDb(): Promise<TestDatabase> {
  const d = await freshDatabase();
  dbs.push(d);
  return d;
}

function newInbox(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-inbox-'));
  dirs.push(d);
  return d;
}

let clock = Date.UTC(2024, 0, 1) / 1000;
/** Write <inbox>/<feed>/<name> with a modification time later than every earlier put (arrival order). */
function put(inbox: string, feed: string, name: string, content: string | Buffer): string {
  const dir = path.join(inbox, feed);
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  clock += 60;
  fs.utimesSync(p, clock, clock);
  return p;
}

const quiet: IngestOptions['log'] = () => {};
const ingest = (pool: Pool, inbox: string, opts: Partial<IngestOptions> = {}) => ingestInbox(pool, { inbox, log: quiet, ...opts });

/** A content digest of every feed table, leaving out file_id, line_no and loaded_at. */
async function digest(pool: Pool): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of FEEDS) {
    const cols = f.columns.map((c) => `"${c.name}"`).join(', ');
    const r = await pool.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) AS h FROM (SELECT ROW(${cols})::text AS r FROM ${f.table}) x`
    );
    out[f.table] = `${r.rows[0].n}:${r.rows[0].h}`;
  }
  return out;
}

async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query(sql, params)).rows[0].n);
}

// People of the tests
const P1 = makeIdNumber('330102', '1950-03-07', 123); // male
const P2 = makeIdNumber('330102', '1958-11-20', 124); // female
const P3 = makeIdNumber('330103', '1944-01-31', 35); // male
const PAY_HEADER = 'payment_id,id_number,scheme_code,period,amount,paid_at,status,account_no';
const pay = (id: string, person: string, period: string, amount: string, status = 'paid', account = '6222001') =>
  `${id},${person},ENT,${period},${amount},${period.length === 7 ? period : '2024-01'}-15T09:00:00+08:00,${status},${account}`;

const REGIONS = 'code,name,level,parent_code\n330100,杭州市,city,\n330102,上城区,district,330100\n330103,下城区,district,330100\n';
const PERSONS =
  `id_number,name,sex,birth_date,phone,hukou_region,status,retirement_basis,retired_on,updated_at\n` +
  `${P1},张三,M,1950-03-07,13800000000,330102,retired,,2010-04-01,2024-01-01T08:00:00\n` +
  `${toLegacy15(P2)},李四,,,,330102,retired,,,\n` +
  `${P3.toLowerCase()},欧阳娜娜,,19440131,,330103,retired,M60,,\n`;

describe('ingest: loading and quarantine', () => {
  it('loads every good row and quarantines every bad one with file, line, raw text and reason', async () => {
    const db = await newDb();
    const inbox = newInbox();
    put(inbox, 'regions', 'regions.csv', REGIONS);
    put(inbox, 'persons', 'persons.csv', PERSONS + `${P1.slice(0, 17)}0,错号,M,,,330102,retired,,,\n`);
    put(
      inbox,
      'payments',
      '2024-01.csv',
      [
        PAY_HEADER,
        pay('P-1', P1, '2024-01', '3125.50'),
        pay('P-2', P2, '202401', '2100.5'),
        '"P-3",' + P3 + ',ENT,2024-01,"1800.00",,paid,"acct, with comma\nand a line break"',
        pay('P-4', P3, '2024-01', '3125.505'),
        'P-5,' + P3 + ',ENT,2024-01',
        pay('P-6', P1, '2024-13', '10'),
        pay('P-7', P1, '2024-01', '-1'),
        pay('P-8', P1, '2024-01', '1e3'),
        pay('P-9', '12345', '2024-01', '10'),
        pay('P-10', P1, '2024-01', '10', 'lost'),
        ''
      ].join('\n')
    );
    const job = await runIngestJob(db.pool, { inbox, log: quiet });
    expect(job.status).toBe('ok');
    const s = job.summary!;
    expect(s.totals).toMatchObject({ read: 3 + 4 + 10, loaded: 3 + 3 + 3, replaced: 0, quarantined: 1 + 7, filesLoaded: 3 });
    expect(s.totals.read).toBe(s.totals.loaded + s.totals.replaced + s.totals.quarantined);
    expect(s.unresolvedPersonRefs).toBe(0);
    const run = (await db.pool.query(`SELECT * FROM job_runs WHERE run_id = $1`, [job.runId])).rows[0];
    expect(run).toMatchObject({
      job: 'ingest',
      status: 'ok',
      rows_read: '17',
      rows_loaded: '9',
      rows_replaced: '0',
      rows_quarantined: '8'
    });
    expect(run.counts).toMatchObject({ files_loaded: 3, unresolved_person_refs: 0 });

    const q = (await db.pool.query(`SELECT file_name, line_no, reason_code, reason, raw_line FROM quarantine ORDER BY file_name, line_no`))
      .rows;
    expect(q.map((r) => [r.file_name, r.line_no, r.reason_code])).toEqual([
      ['2024-01.csv', 6, 'bad_money'],
      ['2024-01.csv', 7, 'field_count'],
      ['2024-01.csv', 8, 'bad_period'],
      ['2024-01.csv', 9, 'negative_money'],
      ['2024-01.csv', 10, 'bad_money'],
      ['2024-01.csv', 11, 'id_length'],
      ['2024-01.csv', 12, 'unknown_enum'],
      ['persons.csv', 5, 'id_check_char']
    ]);
    expect(q[1]).toMatchObject({ raw_line: `P-5,${P3},ENT,2024-01`, reason: 'the line has 4 fields, the header has 8' });
    expect(q[0].reason).toBe('amount "3125.505" has more than 2 decimals');
    expect(q[6].reason).toBe('status "lost" is not one of paid, failed, returned');

    const persons = (await db.pool.query(`SELECT id_number, name, sex, birth_date, status FROM persons ORDER BY id_number`)).rows;
    expect(persons).toEqual(
      [
        { id_number: P1, name: '张三', sex: 'M', birth_date: '1950-03-07', status: 'retired' },
        { id_number: P2, name: '李四', sex: 'F', birth_date: '1958-11-20', status: 'retired' },
        { id_number: P3, name: '欧阳娜娜', sex: 'M', birth_date: '1944-01-31', status: 'retired' }
      ].sort((a, b) => (a.id_number < b.id_number ? -1 : 1))
    );
    const p3 = (await db.pool.query(`SELECT account_no, amount, period, line_no FROM payments WHERE payment_id = 'P-3'`)).rows[0];
    expect(p3).toEqual({ account_no: 'acct, with comma\nand a line break', amount: '1800.00', period: '2024-01-01', line_no: 4 });
    const files = (await db.pool.query(`SELECT feed, status, rows_read, rows_loaded, rows_quarantined FROM ingest_files ORDER BY feed`))
      .rows;
    expect(files).toEqual([
      { feed: 'payments', status: 'loaded', rows_read: '10', rows_loaded: '3', rows_quarantined: '7' },
      { feed: 'persons', status: 'loaded', rows_read: '4', rows_loaded: '3', rows_quarantined: '1' },
      { feed: 'regions', status: 'loaded', rows_read: '3', rows_loaded: '3', rows_quarantined: '0' }
    ]);
    expect(fs.readdirSync(path.join(inbox, '.done', 'payments'))).toEqual(['2024-01.csv']);
    expect(fs.readdirSync(path.join(inbox, 'payments'))).toEqual([]);
  });

  it('reads GB18030 files with Chinese names, reports unknown columns once, and reads timestamps without offset as Asia/Shanghai', async () => {
    const db = await newDb();
    const inbox = newInbox();
    put(
      inbox,
      'persons',
      'gbk.csv',
      iconv.encode(
        `ID_NUMBER, Name ,hukou_region,status,remark\n${P1},張三豐,330102,retired,备注\n${P2},欧阳娜娜,330102,insured,\n`
          .replace('insured', 'insured')
          .replace(',\n', ',\n'),
        'gb18030'
      )
    );
    put(
      inbox,
      'evidence',
      'ev.csv',
      `evidence_id,id_number,source,kind,occurred_at,region,detail\n` +
        `E1,${P1},GOV_APP,face_login,2024-03-05T14:30:00,330102,刷脸\nE2,${P1},GOV_APP,face_login,2024-03-05T06:30:00Z,,\nE3,${P1},GOV_APP,face_login,20240305,,\n`
    );
    const details = Array.from({ length: 20 }, (_, i) => `D${i},${P2},GOV_APP,face_login,2024-03-0${1 + (i % 9)},,社区服务中心${i}`).join(
      '\n'
    );
    put(
      inbox,
      'evidence',
      'damaged.csv',
      Buffer.concat([
        Buffer.from(`evidence_id,id_number,source,kind,occurred_at,region,detail\n${details}\nD99,${P2},GOV_APP,face_login,2024-03-01,,`),
        Buffer.from([0xc9, 0xe7, 0xc7, 0xf8]),
        Buffer.from('\n')
      ])
    );
    const logs: string[] = [];
    const s = await ingest(db.pool, inbox, { log: (m) => logs.push(m) });
    expect(s.files.find((f) => f.feed === 'persons')).toMatchObject({
      encoding: 'gb18030',
      unknownColumns: ['remark'],
      loaded: 1,
      quarantined: 1
    });
    expect(s.files.find((f) => f.file === 'damaged.csv')).toMatchObject({
      encoding: 'utf-8',
      loaded: 20,
      quarantined: 1,
      quarantineByCode: { bad_encoding: 1 }
    });
    expect((await db.pool.query(`SELECT line_no, reason_code FROM quarantine WHERE file_name = 'damaged.csv'`)).rows).toEqual([
      { line_no: 22, reason_code: 'bad_encoding' }
    ]);
    expect((await db.pool.query(`SELECT detail FROM evidence WHERE evidence_id = 'D7'`)).rows[0].detail).toBe('社区服务中心7');
    expect(logs.filter((l) => l.includes('unknown column'))).toHaveLength(1);
    expect((await db.pool.query(`SELECT name FROM persons`)).rows).toEqual([{ name: '張三豐' }]);
    expect((await db.pool.query(`SELECT unknown_columns FROM ingest_files WHERE feed = 'persons'`)).rows[0].unknown_columns).toEqual([
      'remark'
    ]);
    expect((await db.pool.query(`SELECT reason FROM quarantine WHERE feed = 'persons'`)).rows[0].reason).toBe(
      'retirement_basis is required when status is insured'
    );
    const ev = (await db.pool.query(`SELECT evidence_id, occurred_at, detail FROM evidence WHERE evidence_id LIKE 'E%' ORDER BY 1`)).rows;
    expect(ev.map((e) => [e.evidence_id, (e.occurred_at as Date).toISOString(), e.detail])).toEqual([
      ['E1', '2024-03-05T06:30:00.000Z', '刷脸'],
      ['E2', '2024-03-05T06:30:00.000Z', null],
      ['E3', '2024-03-04T16:00:00.000Z', null]
    ]);
  });

  it('rejects unreadable files whole and keeps them; ignores .part files, dot-files and dot-folders', async () => {
    const db = await newDb();
    const inbox = newInbox();
    put(inbox, 'payments', 'photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    put(inbox, 'payments', 'no-amount.csv', `payment_id,id_number,scheme_code,period,status\nP1,${P1},ENT,2024-01,paid\n`);
    put(inbox, 'payments', 'empty.csv', '');
    put(inbox, 'payments', 'blank.csv', '\n\n');
    put(inbox, 'payments', 'utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${PAY_HEADER}\n`, 'utf16le')]));
    put(inbox, 'pensions', 'p.csv', `${PAY_HEADER}\n${pay('P1', P1, '2024-01', '1')}\n`);
    put(inbox, 'payments', 'late.csv.part', `${PAY_HEADER}\n${pay('P9', P1, '2024-01', '1')}\n`);
    put(inbox, 'payments', '.hidden.csv', `${PAY_HEADER}\n${pay('P8', P1, '2024-01', '1')}\n`);
    put(inbox, 'payments', 'readme.txt', 'not data');
    put(inbox, '.geo', 'districts.csv', 'not,a,feed\n');
    put(inbox, '.done', 'x.csv', 'old\n');
    const s = await ingest(db.pool, inbox);
    expect(s.totals).toMatchObject({ filesRejected: 6, filesLoaded: 0, read: 0 });
    const rejected = (
      await db.pool.query(
        `SELECT f.feed, f.file_name, f.status, q.reason_code, q.line_no, q.reason FROM ingest_files f JOIN quarantine q USING (file_id) ORDER BY f.file_name`
      )
    ).rows;
    expect(rejected.map((r) => [r.feed, r.file_name, r.status, r.reason_code, r.line_no])).toEqual([
      ['payments', 'blank.csv', 'rejected', 'empty_file', null],
      ['payments', 'empty.csv', 'rejected', 'empty_file', null],
      ['payments', 'no-amount.csv', 'rejected', 'missing_column', null],
      ['pensions', 'p.csv', 'rejected', 'unknown_feed', null],
      ['payments', 'photo.csv', 'rejected', 'not_csv', null],
      ['payments', 'utf16.csv', 'rejected', 'not_csv', null]
    ]);
    expect(rejected[2].reason).toMatch(/lacks required column amount/);
    expect(fs.readdirSync(path.join(inbox, '.rejected', 'payments')).sort()).toEqual([
      'blank.csv',
      'empty.csv',
      'no-amount.csv',
      'photo.csv',
      'utf16.csv'
    ]);
    expect(fs.readdirSync(path.join(inbox, '.rejected', 'pensions'))).toEqual(['p.csv']);
    expect(fs.readdirSync(path.join(inbox, 'payments')).sort()).toEqual(['.hidden.csv', 'late.csv.part', 'readme.txt']);
    expect(fs.existsSync(path.join(inbox, '.geo', 'districts.csv'))).toBe(true);
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(0);

    // The same content delivered to the right folder is judged again there, and loads.
    fs.renameSync(path.join(inbox, '.rejected', 'pensions', 'p.csv'), path.join(inbox, 'payments', 'p.csv'));
    const again = await ingest(db.pool, inbox);
    expect(again.totals).toMatchObject({ filesLoaded: 1, loaded: 1 });
    expect((await db.pool.query(`SELECT feed, status FROM ingest_files WHERE file_name = 'p.csv'`)).rows).toEqual([
      { feed: 'payments', status: 'loaded' }
    ]);
    expect(await count(db.pool, `SELECT count(*) AS n FROM quarantine WHERE reason_code = 'unknown_feed'`)).toBe(0);
  });
});

describe('ingest: idempotence and versions', () => {
  const scenario = async (opts: Partial<IngestOptions>) => {
    const db = await newDb();
    const inbox = newInbox();
    put(inbox, 'persons', 'persons.csv', PERSONS);
    put(
      inbox,
      'payments',
      'jan.csv',
      [
        PAY_HEADER,
        pay('P-1', P1, '2024-01', '100.00'),
        pay('P-2', P2, '2024-01', '200.00'),
        pay('P-3', P3, '2024-01', '300.00'),
        'bad,line'
      ].join('\n')
    );
    const first = await ingest(db.pool, inbox, opts);
    expect(first.totals).toMatchObject({ read: 7, loaded: 6, quarantined: 1 });
    const d1 = await digest(db.pool);
    const filesBefore = await count(db.pool, `SELECT count(*) AS n FROM ingest_files`);
    const quarantineBefore = await count(db.pool, `SELECT count(*) AS n FROM quarantine`);

    // Re-delivery: the same files again, one under a new name.
    fs.copyFileSync(path.join(inbox, '.done', 'payments', 'jan.csv'), path.join(inbox, 'payments', 'jan.csv'));
    fs.copyFileSync(path.join(inbox, '.done', 'payments', 'jan.csv'), path.join(inbox, 'payments', 'january-again.csv'));
    fs.copyFileSync(path.join(inbox, '.done', 'persons', 'persons.csv'), path.join(inbox, 'persons', 'persons.csv'));
    const again = await ingest(db.pool, inbox, opts);
    expect(again.totals).toMatchObject({ read: 0, loaded: 0, replaced: 0, quarantined: 0, filesDuplicate: 3, filesLoaded: 0 });
    expect(await digest(db.pool)).toEqual(d1);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_files`)).toBe(filesBefore);
    expect(await count(db.pool, `SELECT count(*) AS n FROM quarantine`)).toBe(quarantineBefore);
    // The re-delivered jan.csv lands beside the first as jan~<file_id of the first>.csv. That id depends on which of
    // the two lanes (persons, payments) recorded its file first, so it is read, not assumed.
    const janId = (await db.pool.query(`SELECT file_id FROM ingest_files WHERE file_name = 'jan.csv'`)).rows[0].file_id;
    expect(new Set(fs.readdirSync(path.join(inbox, '.done', 'payments')))).toEqual(
      new Set(['jan.csv', `jan~${janId}.csv`, 'january-again.csv'])
    );

    // A correction: P-2 changed, P-3 identical, P-4 new; a file repeating a key keeps its last line.
    put(
      inbox,
      'payments',
      'jan-fix.csv',
      [PAY_HEADER, pay('P-2', P2, '2024-01', '250.00'), pay('P-3', P3, '2024-01', '300.00'), pay('P-4', P1, '2024-02', '100')].join('\n')
    );
    put(
      inbox,
      'payments',
      'feb.csv',
      [
        PAY_HEADER,
        pay('P-5', P1, '2024-02', '1'),
        pay('P-5', P1, '2024-02', '2'),
        pay('P-5', P1, '2024-02', '2'),
        pay('P-1', P1, '2024-01', '100.00'),
        pay('P-1', P1, '2024-01', '101.00')
      ].join('\n')
    );
    const fix = await ingest(db.pool, inbox, opts);
    const [fixFile, febFile] = fix.files;
    expect(fixFile).toMatchObject({ file: 'jan-fix.csv', read: 3, loaded: 2, unchanged: 1, replaced: 1, mode: 'staging' });
    expect(febFile).toMatchObject({ file: 'feb.csv', read: 5, loaded: 3, unchanged: 2, replaced: 2 });
    const rows = (await db.pool.query(`SELECT payment_id, amount, file_id, line_no FROM payments ORDER BY payment_id`)).rows;
    expect(rows.map((r) => [r.payment_id, r.amount])).toEqual([
      ['P-1', '101.00'],
      ['P-2', '250.00'],
      ['P-3', '300.00'],
      ['P-4', '100.00'],
      ['P-5', '2.00']
    ]);
    expect(rows.find((r) => r.payment_id === 'P-5')!.line_no).toBe(4);
    const history = (
      await db.pool.query(
        `SELECT natural_key, old_row->>'amount' AS amount, replaced_by_file FROM row_history ORDER BY natural_key, history_id`
      )
    ).rows;
    expect(history.map((h) => [h.natural_key, Number(h.amount), Number(h.replaced_by_file)])).toEqual([
      ['P-1', 100, febFile.fileId],
      ['P-2', 200, fixFile.fileId],
      ['P-5', 1, febFile.fileId]
    ]);
    return { digest: await digest(db.pool), history: history.map((h) => [h.natural_key, h.amount]) };
  };

  it('re-delivery changes nothing; a correction replaces the row and keeps the old version (direct COPY path)', async () => {
    const direct = await scenario({});
    expect(direct.history).toHaveLength(3);
  });

  it('gives the same result when every file goes through the staging merge', async () => {
    const direct = await scenario({});
    const staged = await scenario({ staging: true });
    expect(staged).toEqual(direct);
  });

  it('gives the same result through the keyed merge of TimescaleDB hypertables (here on a plain table too)', async () => {
    const direct = await scenario({});
    const keyed = await scenario({ staging: true, keyedMerge: { payments: null, persons: null } });
    expect(keyed).toEqual(direct);
  });

  it('corrections that move keys to another month, a key twice in a file, a new month: the same through every path', async () => {
    // hyperShaped: payments' unique index holds the period too, as on a TimescaleDB hypertable, where a direct
    // COPY is refused only for a key delivered again for the same period and must be checked afterwards.
    const run = async (opts: Partial<IngestOptions>, hyperShaped = false) => {
      const db = await newDb();
      if (hyperShaped) await db.pool.query(`DROP INDEX payments_key; CREATE UNIQUE INDEX payments_key ON payments (payment_id, period)`);
      const inbox = newInbox();
      put(inbox, 'persons', 'persons.csv', PERSONS);
      put(
        inbox,
        'payments',
        'jan.csv',
        [PAY_HEADER, pay('P-1', P1, '2024-01', '100.00'), pay('P-2', P2, '2024-01', '200.00'), pay('P-3', P3, '2024-01', '300.00')].join(
          '\n'
        )
      );
      const files: FileResult[] = [];
      const deliver = async (name?: string, lines?: string[]) => {
        if (name) put(inbox, 'payments', name, [PAY_HEADER, ...lines!].join('\n'));
        files.push(...(await ingest(db.pool, inbox, opts)).files.filter((f) => f.feed === 'payments'));
      };
      await deliver();
      // P-1 belonged to February after all, P-2's amount was wrong, P-3 is delivered again unchanged.
      await deliver('jan-fix.csv', [
        pay('P-1', P1, '2024-02', '100.00'),
        pay('P-2', P2, '2024-01', '250.00'),
        pay('P-3', P3, '2024-01', '300.00')
      ]);
      // Only a move: nothing in the file repeats a (key, period) the table has.
      await deliver('move.csv', [pay('P-3', P3, '2024-02', '300.00')]);
      // A key twice in one file, for two months: the later line wins.
      await deliver('dup.csv', [pay('D-1', P2, '2024-04', '10.00'), pay('D-1', P2, '2024-05', '11.00')]);
      await deliver('mar.csv', [
        pay('M-1', P1, '2024-03', '100.00'),
        pay('M-2', P2, '2024-03', '250.00'),
        pay('M-3', P3, '2024-03', '300.00')
      ]);
      const counts = files.map((f) => [f.file, f.read, f.loaded, f.replaced, f.unchanged]);
      const rows = (await db.pool.query(`SELECT payment_id, period, amount FROM payments ORDER BY 1`)).rows.map((r) => [
        r.payment_id,
        r.period,
        r.amount
      ]);
      const history = (
        await db.pool.query(
          `SELECT natural_key, old_row->>'period' AS period, old_row->>'amount' AS amount FROM row_history ORDER BY history_id`
        )
      ).rows;
      return { counts, rows, history, digest: await digest(db.pool), modes: files.map((f) => f.mode) };
    };
    const { modes: directModes, ...direct } = await run({});
    expect(direct.counts).toEqual([
      ['jan.csv', 3, 3, 0, 0],
      ['jan-fix.csv', 3, 1, 2, 1],
      ['move.csv', 1, 0, 1, 0],
      ['dup.csv', 2, 1, 1, 0],
      ['mar.csv', 3, 3, 0, 0]
    ]);
    expect(direct.rows).toEqual([
      ['D-1', '2024-05-01', '11.00'],
      ['M-1', '2024-03-01', '100.00'],
      ['M-2', '2024-03-01', '250.00'],
      ['M-3', '2024-03-01', '300.00'],
      ['P-1', '2024-02-01', '100.00'],
      ['P-2', '2024-01-01', '250.00'],
      ['P-3', '2024-02-01', '300.00']
    ]);
    expect(direct.history).toEqual([
      { natural_key: 'P-1', period: '2024-01-01', amount: '100.00' },
      { natural_key: 'P-2', period: '2024-01-01', amount: '200.00' },
      { natural_key: 'P-3', period: '2024-01-01', amount: '300.00' },
      { natural_key: 'D-1', period: '2024-04-01', amount: '10.00' }
    ]);
    // Plain: the unique key refuses the last three at once. TimescaleDB: only jan-fix (P-2 again for January);
    // move.csv and dup.csv are COPYed, found to repeat keys, and go the staging way after all.
    expect(directModes).toEqual(['direct', 'staging', 'staging', 'staging', 'direct']);
    const strip = ({ modes: _, ...r }: Awaited<ReturnType<typeof run>>) => r;
    expect(strip(await run({ staging: true }))).toEqual(direct);
    expect(strip(await run({ staging: true, keyedMerge: { payments: 'period', persons: null } }))).toEqual(direct);
    // On plain PostgreSQL: the hypertable's way (direct COPY checked afterwards, keyed merge) on a table shaped like one.
    const shaped = await run({ keyedMerge: { payments: 'period' } }, true);
    expect(shaped.modes).toEqual(['direct', 'staging', 'staging', 'staging', 'direct']);
    expect(strip(shaped)).toEqual(direct);
  });

  it('an initial bulk load (key index deferred, keys settled at the end) gives the same tables, history and counts', async () => {
    const run = async (bulk: 'always' | 'never') => {
      const db = await newDb();
      const inbox = newInbox();
      put(inbox, 'persons', 'persons.csv', PERSONS);
      put(inbox, 'persons', 'fix.csv', PERSONS.replace('张三', '张三丰'));
      put(
        inbox,
        'payments',
        'jan.csv',
        [PAY_HEADER, pay('P-1', P1, '2024-01', '100.00'), pay('P-2', P2, '2024-01', '200.00'), pay('P-3', P3, '2024-01', '300.00')].join(
          '\n'
        )
      );
      put(
        inbox,
        'payments',
        'jan-fix.csv',
        [PAY_HEADER, pay('P-2', P2, '2024-01', '250.00'), pay('P-3', P3, '2024-01', '300.00'), pay('P-4', P1, '2024-02', '100')].join('\n')
      );
      put(
        inbox,
        'payments',
        'feb.csv',
        [
          PAY_HEADER,
          pay('P-5', P1, '2024-02', '1'),
          pay('P-5', P1, '2024-02', '2'),
          pay('P-5', P1, '2024-02', '2'),
          pay('P-1', P1, '2024-01', '100.00'),
          pay('P-1', P1, '2024-01', '101.00'),
          pay('P-2', P2, '2024-01', '200.00')
        ].join('\n')
      );
      const logs: string[] = [];
      const job = await runIngestJob(db.pool, { inbox, bulk, log: (m) => logs.push(m) });
      expect(job.status).toBe('ok');
      if (bulk === 'always') {
        // Plain PostgreSQL: the empty table loses its natural-key index too (append mode). A TimescaleDB
        // hypertable keeps its unique (key, time) index and defers only the secondary ones.
        const expected = inject('pgTimescale') ? 'payments_person_scheme_period' : 'into an empty table';
        expect(
          logs.some((l) => l.includes('bulk load') && l.includes(expected) && (inject('pgTimescale') || l.includes('payments_key')))
        ).toBe(true);
      }
      const indexes = (await db.pool.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename IN ('payments', 'persons')`)).rows[0]
        .n;
      const history = (
        await db.pool.query(
          `SELECT h.feed, h.natural_key, h.old_row - 'file_id' - 'line_no' - 'loaded_at' AS old, f.file_name FROM row_history h JOIN ingest_files f ON f.file_id = h.replaced_by_file ORDER BY 1, 2, 4, 3::text`
        )
      ).rows;
      const files = (
        await db.pool.query(
          `SELECT file_name, rows_read, rows_loaded, rows_replaced, rows_quarantined FROM ingest_files ORDER BY file_name`
        )
      ).rows;
      const run = (
        await db.pool.query(
          `SELECT rows_read, rows_loaded, rows_replaced, rows_quarantined, counts->'unchanged' AS unchanged FROM job_runs WHERE run_id = $1`,
          [job.runId]
        )
      ).rows[0];
      return { digest: await digest(db.pool), indexes, history, files, run, totals: job.summary!.totals };
    };
    const normal = await run('never');
    const bulk = await run('always');
    expect(bulk).toEqual(normal);
    expect(normal.totals).toMatchObject({ read: 18, loaded: 13, replaced: 5, unchanged: 5 });
    expect(normal.history.map((h: { natural_key: string }) => h.natural_key)).toEqual(['P-1', 'P-2', 'P-2', 'P-5', P1]);
  });

  it('notices a duplicate by its content hash even when it was not fingerprinted before loading', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const content = [PAY_HEADER, pay('P-1', P1, '2024-01', '100.00'), pay('P-2', P2, '2024-01', '200.00')].join('\n');
    put(inbox, 'payments', 'a.csv', content);
    await ingest(db.pool, inbox);
    await db.pool.query(`UPDATE ingest_files SET size_bytes = size_bytes + 1`); // the size check no longer matches
    const d1 = await digest(db.pool);
    put(inbox, 'payments', 'b.csv', content);
    const s = await ingest(db.pool, inbox);
    expect(s.files.map((f) => [f.file, f.status, f.read])).toEqual([['b.csv', 'duplicate', 0]]);
    expect(await digest(db.pool)).toEqual(d1);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_files`)).toBe(1);
    expect(fs.existsSync(path.join(inbox, '.done', 'payments', 'b.csv'))).toBe(true);
  });

  it('keeps rows whose person is unknown and resolves them when the person arrives', async () => {
    const db = await newDb();
    const inbox = newInbox();
    put(inbox, 'payments', 'jan.csv', [PAY_HEADER, pay('P-1', P1, '2024-01', '100'), pay('P-2', P2, '2024-01', '200')].join('\n'));
    put(inbox, 'deaths', 'd.csv', `record_id,id_number,death_date,source,recorded_at\nD1,${P2},2024-02-03,health,2024-03-01\n`);
    const first = await ingest(db.pool, inbox);
    expect(first.totals).toMatchObject({ loaded: 3, quarantined: 0 });
    expect(first.unresolvedPersonRefs).toBe(3);
    expect(first.unresolvedByFeed).toMatchObject({ payments: 2, deaths: 1 });
    put(inbox, 'persons', 'p.csv', PERSONS);
    const second = await ingest(db.pool, inbox);
    expect(second.unresolvedPersonRefs).toBe(0);
    const joined = await count(db.pool, `SELECT count(*) AS n FROM payments p JOIN persons r USING (id_number)`);
    expect(joined).toBe(2);
  });

  it('gives the same database whatever the arrival order', async () => {
    const files: [string, string, string][] = [
      ['regions', 'r.csv', REGIONS],
      ['persons', 'p.csv', PERSONS],
      [
        'enrollments',
        'e.csv',
        `enrollment_id,id_number,scheme_code,status,monthly_amount,start_period,end_period,account_no\nEN1,${P1},ENT,active,3125.50,2010-05,,6222001\nEN2,${P2},RES,suspended,200,2019-01,2024-02,6222002\n`
      ],
      ['payments', 'jan.csv', [PAY_HEADER, pay('P-1', P1, '2024-01', '3125.50'), pay('P-2', P2, '2024-01', '200')].join('\n')],
      ['payments', 'feb.csv', [PAY_HEADER, pay('P-3', P1, '2024-02', '3125.50'), pay('P-4', P2, '2024-02', '200', 'returned')].join('\n')],
      [
        'evidence',
        'ev.csv',
        `evidence_id,id_number,source,kind,occurred_at\nEV1,${P1},TRANSIT_CARD,bus_swipe,2024-02-01 08:00\nEV2,${P3},HEALTH_HIS,outpatient_visit,2024-02-02T09:00:00+08:00\n`
      ],
      ['deaths', 'd.csv', `record_id,id_number,death_date,source,recorded_at\nD1,${P2},2024-02-03,health,2024-03-01\n`],
      ['imprisonments', 'i.csv', `record_id,id_number,start_date,end_date,source\nI1,${P3},2023-01-01,,prison\n`],
      [
        'certifications',
        'c.csv',
        `certification_id,id_number,method,certified_at,result,operator\nC1,${P1},face_online,2024-01-05T10:00:00+08:00,pass,\n`
      ],
      ['subsidies', 's.csv', `payout_id,id_number,project_code,period,amount,paid_at\nS1,${P3},AGE80,2024-01,100.00,\n`],
      ['hardship', 'h.csv', `id_number,kind,level,since,until\n${P2},disability,2,2020-01-01,\n`],
      ['checkups', 'k.csv', `checkup_id,id_number,hospital,booked_for,attended_at,result\nK1,${P1},市一医院,2024-04-01,,pending\n`],
      ['fund', 'f.csv', `period,scheme_code,income,expenditure,balance\n2024-01,ENT,1000000.00,1200000.00,-200000.00\n`],
      [
        'activities',
        'a.csv',
        `signup_id,id_number,activity_code,kind,signed_up_at,attended_at,satisfaction\nA1,${P1},TAICHI,activity,2024-03-01 09:00,2024-03-02 09:00,5\n`
      ],
      [
        'payroll_draft',
        'pd.csv',
        `draft_id,line_id,id_number,scheme_code,period,amount,account_no,bank,prepared_at\nPD1,1,${P1},ENT,2024-03,3125.50,6222001,工商银行,2024-02-25T10:00:00\n`
      ]
    ];
    const load = async (order: typeof files, oneByOne: boolean) => {
      const db = await newDb();
      const inbox = newInbox();
      if (oneByOne) {
        for (const [feed, name, content] of order) {
          put(inbox, feed, name, content);
          await ingest(db.pool, inbox);
        }
      } else {
        for (const [feed, name, content] of order) put(inbox, feed, name, content);
        await ingest(db.pool, inbox, { order: [...new Set(order.map((f) => f[0]))] });
      }
      expect(await count(db.pool, `SELECT count(*) AS n FROM quarantine`)).toBe(0);
      return digest(db.pool);
    };
    const forward = await load(files, true);
    expect(Object.values(forward).every((v) => !v.startsWith('0:'))).toBe(true);
    expect(await load([...files].reverse(), true)).toEqual(forward);
    expect(await load([...files].reverse(), false)).toEqual(forward);
  });
});

describe('ingest: interrupted loads', () => {
  const bigPayments = (n: number) => {
    const lines = [PAY_HEADER];
    for (let i = 0; i < n; i++)
      lines.push(
        pay(`P-${String(i).padStart(7, '0')}`, [P1, P2, P3][i % 3], '2024-01', `${1000 + (i % 997)}.${String(i % 100).padStart(2, '0')}`)
      );
    return lines.join('\n') + '\n';
  };

  it('a load that fails part-way leaves nothing; the re-run loads the file once, whole', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const content = bigPayments(40_000); // ~3.5 MB: several 1 MiB chunks
    put(inbox, 'payments', 'big.csv', content);
    put(inbox, 'payments', 'later.csv', [PAY_HEADER, pay('Q-1', P1, '2024-02', '1')].join('\n'));
    let calls = 0;
    const failed = await runIngestJob(db.pool, {
      inbox,
      log: quiet,
      hooks: {
        onChunk: (i) => {
          if (i.file === 'big.csv' && i.rowsSoFar > 0 && ++calls === 2) throw new Error('simulated crash mid-file');
        }
      }
    });
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('payments/big.csv: simulated crash mid-file'); // the run's error names the file
    expect(calls).toBe(2);
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(0);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_files`)).toBe(0);
    expect(fs.existsSync(path.join(inbox, 'payments', 'big.csv'))).toBe(true);
    const rerun = await runIngestJob(db.pool, { inbox, log: quiet });
    expect(rerun.status).toBe('ok');
    expect(rerun.counts).toMatchObject({ read: 40_001, loaded: 40_001, replaced: 0, quarantined: 0 });
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(40_001);
    expect(await count(db.pool, `SELECT count(DISTINCT payment_id) AS n FROM payments`)).toBe(40_001);
  });

  it('a file still being written is neither loaded in part nor moved away; the next run loads it whole', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const file = put(inbox, 'payments', 'growing.csv', bigPayments(40_000));
    let appended = false;
    const first = await ingest(db.pool, inbox, {
      hooks: {
        onChunk: (i) => {
          // a department's writer (no .part) appends while we read
          if (!appended && i.file === 'growing.csv' && i.rowsSoFar > 0) {
            appended = true;
            fs.appendFileSync(file, '\n' + pay('LATE-1', P1, '2024-02', '1'));
          }
        }
      }
    });
    expect(appended).toBe(true);
    expect(first.files.map((f) => f.status)).toEqual(['deferred']);
    expect(first.totals.filesDeferred).toBe(1);
    expect(fs.existsSync(file)).toBe(true);
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(0);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_files`)).toBe(0);
    const rerun = await ingest(db.pool, inbox);
    expect(rerun.files.map((f) => f.status)).toEqual(['loaded']);
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(40_001); // 40,000 + the row appended meanwhile
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments WHERE payment_id = 'LATE-1'`)).toBe(1);
  });

  it('rejects a Big5 or Shift-JIS file whole (bad_encoding) instead of loading it as GB18030 garbage; GBK with traditional names still loads', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const header = 'id_number,name,sex,birth_date,phone,hukou_region,status,retirement_basis,retired_on,updated_at';
    const rows = (names: string[]) =>
      [header, ...names.map((n, i) => `${makeIdNumber('330102', '1950-03-07', 101 + 2 * i)},${n},M,1950-03-07,,330102,retired,,,`)].join(
        '\n'
      ) + '\n';
    const trad = [
      '陳大文',
      '張國榮',
      '黃家駒',
      '劉德華',
      '鄭伊健',
      '馮德倫',
      '譚詠麟',
      '錢學森',
      '蔣經國',
      '賴聲川',
      '韓寒',
      '羅大佑',
      '鍾鎮濤',
      '謝霆鋒',
      '關錦鵬'
    ];
    put(inbox, 'regions', 'regions.csv', REGIONS);
    put(inbox, 'persons', 'big5.csv', iconv.encode(rows(trad), 'big5'));
    put(
      inbox,
      'persons',
      'sjis.csv',
      iconv.encode(
        rows(['山田太郎', '佐藤花子', '鈴木一郎', '高橋美咲', '田中健太', '渡辺直美', '伊藤博文', '中村俊輔', '小林幸子', '加藤茶']),
        'shift_jis'
      )
    );
    put(inbox, 'persons', 'gbk-trad.csv', iconv.encode(rows(trad.map((n) => n + '偉')), 'gbk'));
    const s = await ingest(db.pool, inbox);
    const byName = Object.fromEntries(s.files.map((f) => [f.file, f]));
    expect(byName['big5.csv']).toMatchObject({ status: 'rejected', reasonCode: 'bad_encoding' });
    expect(byName['big5.csv'].reason).toMatch(/Big5/);
    expect(byName['sjis.csv']).toMatchObject({ status: 'rejected', reasonCode: 'bad_encoding' });
    expect(byName['gbk-trad.csv'], JSON.stringify(byName['gbk-trad.csv'])).toMatchObject({ status: 'loaded', encoding: 'gb18030' });
    const names = (await db.pool.query(`SELECT name FROM persons ORDER BY name`)).rows.map((r) => r.name);
    expect(names).toContain('陳大文偉');
    expect(names.some((n: string) => /[ぁ-んァ-ン]/.test(n))).toBe(false);
  });

  it('reports a symbolic link in the inbox instead of passing over it in silence', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const real = put(inbox, 'payments', 'real.csv', [PAY_HEADER, pay('S-1', P1, '2024-02', '1')].join('\n'));
    fs.symlinkSync(real, path.join(inbox, 'payments', 'link.csv'));
    const said: string[] = [];
    const r = await ingest(db.pool, inbox, { log: (m) => said.push(m) });
    expect(r.totals.symlinks).toBe(1);
    expect(said.some((m) => m.includes('link.csv is a symbolic link'))).toBe(true);
    expect(r.files.map((f) => f.file)).toEqual(['real.csv']);
  });

  it('the scheduled pickup leaves a file modified within the settle interval for a later run', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const file = put(inbox, 'payments', 'fresh.csv', [PAY_HEADER, pay('F-1', P1, '2024-02', '1')].join('\n'));
    fs.utimesSync(file, new Date(), new Date()); // just written
    const waiting = await ingest(db.pool, inbox, { settleMs: 60_000 });
    expect(waiting.files).toEqual([]);
    expect(waiting.totals.filesUnsettled).toBe(1);
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(file, old, old);
    const settled = await ingest(db.pool, inbox, { settleMs: 60_000 });
    expect(settled.files.map((f) => f.status)).toEqual(['loaded']);
  });

  it('a backend terminated during COPY loses and duplicates nothing', async () => {
    const db = await newDb();
    const inbox = newInbox();
    put(inbox, 'payments', 'big.csv', bigPayments(40_000));
    const killer = createPool(db.url, { max: 1 });
    try {
      let killed = false;
      await expect(
        ingest(db.pool, inbox, {
          hooks: {
            onChunk: async (i) => {
              if (!killed && i.rowsSoFar > 10_000) {
                killed = true;
                await killer.query('SELECT pg_terminate_backend($1)', [i.backendPid]);
              }
            }
          }
        })
      ).rejects.toThrow();
      expect(killed).toBe(true);
    } finally {
      await killer.end();
    }
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(0);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_files`)).toBe(0);
    const rerun = await ingest(db.pool, inbox);
    expect(rerun.totals).toMatchObject({ read: 40_000, loaded: 40_000 });
    expect(await count(db.pool, `SELECT count(*) AS n FROM payments`)).toBe(40_000);
  });

  it('quarantines a row PostgreSQL refuses (a rule the validator does not know) and loads the rest', async () => {
    for (const staging of [false, true]) {
      const db = await newDb();
      await db.pool.query(`ALTER TABLE payments ADD CONSTRAINT test_amount_cap CHECK (amount < 10000)`);
      const inbox = newInbox();
      put(
        inbox,
        'payments',
        'p.csv',
        [
          PAY_HEADER,
          pay('P-1', P1, '2024-01', '100'),
          pay('P-2', P1, '2024-02', '20000'),
          pay('P-3', P1, '2024-03', '300'),
          pay('P-4', P1, '2024-04', '40000')
        ].join('\n')
      );
      const s = await ingest(db.pool, inbox, { staging });
      expect(s.totals).toMatchObject({ read: 4, loaded: 2, quarantined: 2 });
      const q = (await db.pool.query(`SELECT line_no, reason_code, reason FROM quarantine ORDER BY line_no`)).rows;
      expect(q.map((r) => [r.line_no, r.reason_code])).toEqual([
        [3, 'db_rejected'],
        [5, 'db_rejected']
      ]);
      expect(q[0].reason).toMatch(/test_amount_cap/);
    }
  });

  it('bulk loads drop secondary indexes and always put them back, even after an interruption', async () => {
    const db = await newDb();
    // Names and whole definitions (options such as deduplicate_items must survive a rebuild too).
    const indexes = async () =>
      (await db.pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payments' ORDER BY 1`)).rows.map(
        (r) => `${r.indexname}: ${r.indexdef}`
      );
    const before = await indexes();
    expect(before.find((d) => d.startsWith('payments_person_scheme_period:'))).toMatch(/deduplicate_items='?off'?/);
    const inbox = newInbox();
    put(inbox, 'payments', 'jan.csv', [PAY_HEADER, pay('P-1', P1, '2024-01', '100')].join('\n'));
    const logs: string[] = [];
    await ingest(db.pool, inbox, { bulk: 'always', log: (m) => logs.push(m) });
    expect(logs.some((l) => l.includes('rebuilt index payments_person_scheme_period'))).toBe(true);
    expect(await indexes()).toEqual(before);
    // An interrupted bulk load: the definition is remembered, the index gone. The next run restores it.
    await db.pool.query(
      `INSERT INTO ingest_deferred_indexes (index_name, table_name, definition) SELECT indexname, tablename, indexdef FROM pg_indexes WHERE indexname = 'payments_account'`
    );
    await db.pool.query(`DROP INDEX payments_account`);
    await ingest(db.pool, newInbox());
    expect(await indexes()).toEqual(before);
    expect(await count(db.pool, `SELECT count(*) AS n FROM ingest_deferred_indexes`)).toBe(0);
    // An interrupted append-mode load: key index gone, a key delivered twice by two files. The next run settles it.
    const later = await ingest(
      db.pool,
      (() => {
        const i = newInbox();
        put(i, 'payments', 'feb.csv', [PAY_HEADER, pay('P-2', P1, '2024-02', '5')].join('\n'));
        return i;
      })()
    );
    await db.pool.query(
      `INSERT INTO ingest_deferred_indexes (index_name, table_name, definition) SELECT indexname, tablename, indexdef FROM pg_indexes WHERE indexname = 'payments_key'`
    );
    await db.pool.query(`DROP INDEX payments_key`);
    await db.pool.query(
      `INSERT INTO payments (payment_id, id_number, scheme_code, period, amount, status, file_id, line_no) VALUES ('P-1', $1, 'ENT', '2024-01-01', 999, 'paid', $2, 2)`,
      [P1, later.files[0].fileId]
    );
    const settled = await ingest(db.pool, newInbox());
    expect(settled.indexesRebuilt).toBe(1);
    expect(await indexes()).toEqual(before);
    expect((await db.pool.query(`SELECT payment_id, amount FROM payments ORDER BY 1`)).rows).toEqual([
      { payment_id: 'P-1', amount: '999.00' },
      { payment_id: 'P-2', amount: '5.00' }
    ]);
    expect((await db.pool.query(`SELECT natural_key, old_row->>'amount' AS amount, replaced_by_file FROM row_history`)).rows).toEqual([
      { natural_key: 'P-1', amount: '100.00', replaced_by_file: String(later.files[0].fileId) }
    ]);
    expect(
      (await db.pool.query(`SELECT rows_loaded, rows_replaced FROM ingest_files WHERE file_id = $1`, [later.files[0].fileId])).rows[0]
    ).toEqual({ rows_loaded: '0', rows_replaced: '1' });
  });
});

describe('ingest into compressed TimescaleDB chunks (TEST_TIMESCALE_URL only)', () => {
  // Rows that DML moved out of compressed batches live in the chunk's own heap: count them there.
  const heapRowsOfCompressedChunks = async (pool: Pool) => {
    const chunks = (
      await pool.query(
        `SELECT format('%I.%I', chunk_schema, chunk_name) AS c FROM timescaledb_information.chunks WHERE hypertable_name = 'payments' AND is_compressed`
      )
    ).rows;
    let n = 0;
    for (const { c } of chunks) n += await count(pool, `SELECT count(*) AS n FROM ONLY ${c}`);
    return { chunks: chunks.length, n };
  };

  it.skipIf(!inject('pgTimescale'))('a correction decompresses only the batches of its keys, a new month none', async () => {
    const db = await newDb();
    const inbox = newInbox();
    const people = [P1, P2, P3];
    const month = (m: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        pay(`PM${m.replace('-', '')}${String(i + 1).padStart(6, '0')}`, people[i % 3], m, String(1000 + (i % 7)))
      );
    put(
      inbox,
      'payments',
      'q1.csv',
      [PAY_HEADER, ...month('2024-01', 3000), ...month('2024-02', 3000), ...month('2024-03', 3000)].join('\n')
    );
    await ingest(db.pool, inbox);
    await db.pool.query(`SELECT compress_chunk(c) FROM show_chunks('payments') c`);
    expect(await heapRowsOfCompressedChunks(db.pool)).toEqual({ chunks: 3, n: 0 });
    // From here on any DML that decompresses a single row without saying so fails: a new month must not need to.
    await db.pool.query(
      `ALTER DATABASE ${new URL(db.url).pathname.slice(1)} SET timescaledb.max_tuples_decompressed_per_dml_transaction = 1`
    );
    const pool = createPool(db.url, { max: 2 });
    try {
      put(inbox, 'payments', 'apr.csv', [PAY_HEADER, ...month('2024-04', 3000)].join('\n'));
      const apr = await ingest(pool, inbox);
      expect(apr.files[0]).toMatchObject({ status: 'loaded', mode: 'direct', loaded: 3000, replaced: 0 });
      expect(await heapRowsOfCompressedChunks(pool)).toEqual({ chunks: 3, n: 0 });

      // Two changed payments of February in two different batches (1000 rows each, ordered by payment_id), one
      // unchanged: two batches are decompressed — 2000 rows — not the 9000 of the compressed chunks.
      put(
        inbox,
        'payments',
        'feb-fix.csv',
        [
          PAY_HEADER,
          pay('PM202402000010', people[9 % 3], '2024-02', '5000'),
          pay('PM202402002500', people[2499 % 3], '2024-02', '6000'),
          pay('PM202402000011', people[10 % 3], '2024-02', String(1000 + (10 % 7)))
        ].join('\n')
      );
      const fix = await ingest(pool, inbox);
      expect(fix.files[0]).toMatchObject({ status: 'loaded', mode: 'staging', read: 3, loaded: 1, replaced: 2, unchanged: 1 });
      expect(await heapRowsOfCompressedChunks(pool)).toEqual({ chunks: 3, n: 2000 });
      expect(
        (
          await pool.query(
            `SELECT payment_id, amount FROM payments WHERE payment_id IN ('PM202402000010', 'PM202402002500', 'PM202402000011') ORDER BY 1`
          )
        ).rows
      ).toEqual([
        { payment_id: 'PM202402000010', amount: '5000.00' },
        { payment_id: 'PM202402000011', amount: '1003.00' },
        { payment_id: 'PM202402002500', amount: '6000.00' }
      ]);
      expect(await count(pool, `SELECT count(*) AS n FROM payments`)).toBe(12_000);
      expect(await count(pool, `SELECT count(*) AS n FROM (SELECT payment_id FROM payments GROUP BY 1 HAVING count(*) > 1) d`)).toBe(0);
      expect(await count(pool, `SELECT count(*) AS n FROM row_history`)).toBe(2);
    } finally {
      await pool.end();
    }
  });
});
