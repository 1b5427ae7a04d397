// The shape of the keyed merge's SQL (TimescaleDB hypertables): what it may and may not ask of a table whose
// old chunks are compressed. Runs without a database; tests/ingest*.test.ts run the SQL itself.
import { describe, expect, it } from 'vitest';
import { FEED_BY_NAME } from './feeds.ts';
import { deleteStatements, feedSql, keyedSql, type ChangedRow } from './merge-sql.ts';

const payments = FEED_BY_NAME.get('payments')!;
const ks = keyedSql(payments, 'period');

describe('keyed merge: reading the table', () => {
  it("looks the staged keys up with a SELECT bounded by the file's smallest and largest key as constants", () => {
    const probe = ks.probe('PM202503000000001', "PM2025'03");
    expect(probe).toMatch(/^CREATE TEMP TABLE ingest_hit ON COMMIT DROP AS\s+SELECT /);
    expect(probe).toContain(`tr."payment_id" >= 'PM202503000000001' AND tr."payment_id" <= 'PM2025''03'`);
    expect(probe).toContain(`tr."payment_id" IN (SELECT s."payment_id" FROM ingest_stg s)`);
    expect(probe).not.toMatch(/DELETE|UPDATE/);
  });
  it('never deletes with a join, and inserts without reading the table again', () => {
    const all = [
      ks.stageBounds,
      ks.probe('a', 'b'),
      ks.historyFirstVsHit,
      ks.changed,
      ks.same,
      ks.historyChanged,
      ks.changedRows,
      ks.insert
    ].join('\n');
    expect(all).not.toMatch(/DELETE/);
    expect(ks.insert).toMatch(/^INSERT INTO "payments" /);
    expect(ks.insert).not.toMatch(/FROM "payments"/);
    expect(ks.insert).toContain('NOT EXISTS (SELECT 1 FROM ingest_same x');
    // only the probe reads the feed table
    for (const s of [ks.historyFirstVsHit, ks.changed, ks.same, ks.historyChanged, ks.changedRows]) expect(s).not.toMatch(/"payments"/);
  });
  it("keeps the history row free of the probe's chunk column", () => {
    expect(ks.historyChanged).toContain(`to_jsonb(g) - 'ingest_chunk'`);
  });
  it('is for single-column keys (every hypertable feed has one)', () => {
    expect(() => keyedSql(FEED_BY_NAME.get('hardship')!, null)).toThrow(/single-column/);
  });
  it('the joined merge of plain tables is what a hypertable must not get', () => {
    expect(feedSql(payments).deleteChanged).toMatch(/DELETE FROM "payments" tr USING ingest_stg s/);
  });
});

describe('keyed merge: deleting, chunk by chunk, by constants', () => {
  const C1 = '_timescaledb_internal._hyper_2_3_chunk',
    C2 = '_timescaledb_internal._hyper_2_30_chunk';
  const row = (chunk: string, key: string, time: string, lo = time, hi = time): ChangedRow => ({
    chunk,
    key,
    time,
    chunk_min: lo,
    chunk_max: hi
  });
  const compressed = (c: string) => c === C1;

  it('a compressed chunk: one statement per row, the key and its time value as constants', () => {
    const s = deleteStatements(
      'payments',
      'payment_id',
      'period',
      [row(C1, 'PM1', '2025-03-01'), row(C1, "P'2", '2025-03-01')],
      compressed
    );
    expect(s).toEqual([
      `DELETE FROM "payments" WHERE "payment_id" = 'PM1' AND "period" = '2025-03-01'`,
      `DELETE FROM "payments" WHERE "payment_id" = 'P''2' AND "period" = '2025-03-01'`
    ]);
  });
  it('an uncompressed chunk: its keys as a constant list, bounded by its time values', () => {
    const s = deleteStatements(
      'payments',
      'payment_id',
      'period',
      [row(C2, 'PM7', '2026-11-01'), row(C2, 'PM8', '2026-11-01')],
      compressed
    );
    expect(s).toEqual([
      `DELETE FROM "payments" WHERE "period" >= '2026-11-01' AND "period" <= '2026-11-01' AND "payment_id" IN ('PM7', 'PM8')`
    ]);
  });
  it('several chunks, several statements; long lists split; never a join with the staging table', () => {
    const rows = [
      row(C1, 'A', '2025-03-01'),
      ...Array.from({ length: 5 }, (_, i) => row(C2, `K${i}`, '2026-11-01 08:00:00+08', '2026-11-01 08:00:00+08', '2026-11-30 23:00:00+08'))
    ];
    const s = deleteStatements('evidence', 'evidence_id', 'occurred_at', rows, compressed, 2);
    expect(s).toHaveLength(1 + 3);
    expect(s[0]).toBe(`DELETE FROM "evidence" WHERE "evidence_id" = 'A' AND "occurred_at" = '2025-03-01'`);
    expect(s[1]).toBe(
      `DELETE FROM "evidence" WHERE "occurred_at" >= '2026-11-01 08:00:00+08' AND "occurred_at" <= '2026-11-30 23:00:00+08' AND "evidence_id" IN ('K0', 'K1')`
    );
    expect(s[3]).toMatch(/IN \('K4'\)$/);
    for (const x of s) expect(x).not.toMatch(/ingest_|USING|SELECT/);
  });
  it('a new month (no key found): no statement at all', () => {
    expect(deleteStatements('payments', 'payment_id', 'period', [], compressed)).toEqual([]);
  });
  it('a plain table (no time column): the keys as a list', () => {
    const s = deleteStatements(
      'payments',
      'payment_id',
      null,
      [{ chunk: 'payments', key: 'P-1', time: null, chunk_min: null, chunk_max: null }],
      () => false
    );
    expect(s).toEqual([`DELETE FROM "payments" WHERE "payment_id" IN ('P-1')`]);
  });
});

describe('direct COPY into a hypertable, checked afterwards', () => {
  it("finds the file's rows by file_id within its days, as constants", () => {
    expect(ks.directRows('2026-10-31', '2026-11-03')).toMatch(
      /FROM "payments" WHERE "period" >= '2026-10-31' AND "period" < '2026-11-03' AND file_id = \$1$/
    );
    expect(ks.directRepeats('2026-10-31', '2026-11-03')).toContain(
      `WHERE "period" >= '2026-10-31' AND "period" < '2026-11-03' AND file_id = $1 GROUP BY "payment_id" HAVING count(*) > 1`
    );
  });
  it("reads the rest of the table only between the file's smallest and largest key, as constants", () => {
    expect(ks.directOthers('PM1', 'PM9')).toBe(
      `SELECT EXISTS (SELECT 1 FROM "payments" WHERE "payment_id" >= 'PM1' AND "payment_id" <= 'PM9' AND file_id IS DISTINCT FROM $1) AS found`
    );
    expect(ks.directConflicts('PM1', 'PM9')).toMatch(
      /^SELECT EXISTS \(SELECT 1 FROM "payments" WHERE "payment_id" >= 'PM1' AND "payment_id" <= 'PM9' GROUP BY "payment_id"/
    );
    for (const x of [ks.directOthers('a', 'b'), ks.directConflicts('a', 'b'), ks.directRows('a', 'b'), ks.directRepeats('a', 'b')])
      expect(x).not.toMatch(/DELETE|ingest_/);
  });
});
