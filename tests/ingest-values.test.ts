// Value parsers and row validation of jobs/ingest: every accepted form, every reason code.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCharacter, makeIdNumber, parseIdNumber, toLegacy15 } from '../core/domain/id-number.ts';
import { CsvScanner } from '../jobs/ingest/csv.ts';
import { FEED_BY_NAME } from '../jobs/ingest/feeds.ts';
import { FileRejection, RowProcessor, type Catalogues } from '../jobs/ingest/rows.ts';
import {
  idReasonCode,
  intParser,
  parseDate,
  parseIdNumberField,
  parseMoney,
  parsePeriod,
  parseTimestamp,
  runParser,
  type Problem
} from '../jobs/ingest/values.ts';

const CATALOGUES: Catalogues = {
  schemes: ['ENT', 'INS', 'RES', 'LLF', 'VET', 'CAD', 'FPR'],
  subsidy_projects: ['AGE80', 'HARD'],
  evidence_kinds: ['bus_swipe', 'face_login'],
  evidence_sources: ['TRANSIT_CARD', 'GOV_APP']
};

const ok = (value: string) => ({ ok: true, value });
const bad = (code: string) => expect.objectContaining({ ok: false, code });

describe('dates', () => {
  it('accepts the three forms and writes YYYY-MM-DD', () => {
    expect(parseDate('2024-03-05')).toEqual(ok('2024-03-05'));
    expect(parseDate('2024/03/05')).toEqual(ok('2024-03-05'));
    expect(parseDate('20240305')).toEqual(ok('2024-03-05'));
    expect(parseDate('2024-02-29')).toEqual(ok('2024-02-29'));
    expect(parseDate(' 2000-02-29 ')).toEqual(ok('2000-02-29'));
  });
  it('refuses anything that is not a real calendar date', () => {
    for (const v of [
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-3-5',
      '05/03/2024',
      '2024-03/05',
      '2024.03.05',
      '202403051',
      'yesterday',
      '0024-01-01',
      '2024-03-05T10:00'
    ]) {
      expect(parseDate(v), v).toEqual(bad('bad_date'));
    }
    const r = parseDate('2024-02-30');
    expect(r.ok === false && r.message).toMatch(/not a real calendar date/);
  });
});

describe('timestamps', () => {
  it('accepts ISO-8601 with and without an offset (no offset = Asia/Shanghai, left to the session)', () => {
    expect(parseTimestamp('2024-03-05T14:30:00+08:00')).toEqual(ok('2024-03-05 14:30:00+08:00'));
    expect(parseTimestamp('2024-03-05T14:30:00')).toEqual(ok('2024-03-05 14:30:00'));
    expect(parseTimestamp('2024-03-05 14:30')).toEqual(ok('2024-03-05 14:30:00'));
    expect(parseTimestamp('2024-03-05T06:30:00Z')).toEqual(ok('2024-03-05 06:30:00+00'));
    expect(parseTimestamp('2024-03-05T06:30:00.123456z')).toEqual(ok('2024-03-05 06:30:00.123456+00'));
    expect(parseTimestamp('2024-03-05T14:30:00,5-05')).toEqual(ok('2024-03-05 14:30:00.5-05:00'));
    expect(parseTimestamp('20240305T143000+0800')).toEqual(ok('2024-03-05 14:30:00+08:00'));
    expect(parseTimestamp('2024-03-05')).toEqual(ok('2024-03-05 00:00:00'));
  });
  it('refuses impossible or non-ISO timestamps', () => {
    for (const v of [
      '2024-03-05T24:00:00',
      '2024-03-05T14:60',
      '2024-03-05T14:30:61',
      '2024-02-30T10:00',
      '2024-03-05T14:30:00+15:00',
      '2024-03-05T14:30:00+8',
      '2024-03-05T14',
      '05/03/2024 14:30',
      '2024-03-05X14:30',
      '2024-03-05T14:30:00 +08:00',
      'now',
      '2024-03-05T14:30:00.',
      '2024-03-05T14:30:00.1234567890'
    ]) {
      expect(parseTimestamp(v), v).toEqual(bad('bad_timestamp'));
    }
  });
});

describe('periods', () => {
  it('accepts YYYY-MM and YYYYMM as the first day of the month', () => {
    expect(parsePeriod('2024-03')).toEqual(ok('2024-03-01'));
    expect(parsePeriod('202403')).toEqual(ok('2024-03-01'));
    expect(parsePeriod('2024-12')).toEqual(ok('2024-12-01'));
  });
  it('refuses other forms and impossible months', () => {
    for (const v of ['2024-13', '202400', '2024-3', '2024/03', '24-03', '2024-03-01', 'March'])
      expect(parsePeriod(v), v).toEqual(bad('bad_period'));
  });
});

describe('money', () => {
  it('takes yuan with up to two decimals', () => {
    expect(parseMoney('3125.5')).toEqual(ok('3125.5'));
    expect(parseMoney('3125.50')).toEqual(ok('3125.50'));
    expect(parseMoney('3125')).toEqual(ok('3125'));
    expect(parseMoney('0')).toEqual(ok('0'));
    expect(parseMoney('-0.00')).toEqual(ok('-0.00'));
    expect(parseMoney('999999999999.99')).toEqual(ok('999999999999.99'));
  });
  it('refuses a third decimal, exponents, separators and signs', () => {
    expect(parseMoney('3125.505')).toEqual(bad('bad_money'));
    expect(parseMoney('1e3')).toEqual(bad('bad_money'));
    expect(parseMoney('3,125.00')).toEqual(bad('bad_money'));
    expect(parseMoney('.5')).toEqual(bad('bad_money'));
    expect(parseMoney('5.')).toEqual(bad('bad_money'));
    expect(parseMoney('+5')).toEqual(bad('bad_money'));
    expect(parseMoney('¥5')).toEqual(bad('bad_money'));
    expect(parseMoney('1000000000000')).toEqual(bad('bad_money'));
    expect(parseMoney('-1')).toEqual(bad('negative_money'));
    expect(parseMoney('-3125.50')).toEqual(bad('negative_money'));
  });
  it('lets the fund balance be negative', () => {
    expect(parseMoney('-1', { signed: true })).toEqual(ok('-1'));
    expect(parseMoney('-3125.505', { signed: true })).toEqual(bad('bad_money'));
  });
});

describe('whole numbers', () => {
  it('satisfaction is 1–5', () => {
    const p = intParser(1, 5);
    expect(runParser(p, '5')).toEqual(ok('5'));
    expect(runParser(p, '01')).toEqual(ok('1'));
    expect(runParser(p, '0')).toEqual(bad('out_of_range'));
    expect(runParser(p, '6')).toEqual(bad('out_of_range'));
    expect(runParser(p, '4.5')).toEqual(bad('bad_number'));
    expect(runParser(p, 'five')).toEqual(bad('bad_number'));
  });
});

describe('id_number', () => {
  const id = makeIdNumber('110101', '1950-03-07', 123); // odd sequence: male
  it('accepts valid numbers, upper-cases x, converts 15 digits', () => {
    expect(parseIdNumberField(id)).toEqual(ok(id));
    const withX = (() => {
      for (let s = 0; s < 1000; s++) {
        const v = makeIdNumber('110101', '1950-03-07', s);
        if (v.endsWith('X')) return v;
      }
      throw new Error('no X');
    })();
    expect(parseIdNumberField(withX.toLowerCase())).toEqual(ok(withX));
    expect(parseIdNumberField(toLegacy15(id))).toEqual(ok(id));
  });
  it('gives the specific reason', () => {
    expect(parseIdNumberField('12345')).toEqual(bad('id_length'));
    expect(parseIdNumberField(id + '1')).toEqual(bad('id_length'));
    expect(parseIdNumberField('11010119500307A23X')).toEqual(bad('id_chars'));
    expect(parseIdNumberField('1101011950030712X3')).toEqual(bad('id_chars'));
    const badDate = '11010119500230123';
    expect(parseIdNumberField(badDate + checkCharacter(badDate))).toEqual(bad('id_birth_date'));
    expect(parseIdNumberField('110101500230123')).toEqual(bad('id_birth_date'));
    const wrongCheck = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
    const r = parseIdNumberField(wrongCheck);
    expect(r).toEqual(bad('id_check_char'));
    expect(r.ok === false && r.message).toMatch(/check character/);
  });
  it('agrees with parseIdNumber on many numbers (fast path vs reference)', () => {
    let agreed = 0;
    for (let i = 0; i < 3000; i++) {
      const base = makeIdNumber(
        String(110101 + (i % 50)),
        `19${String(20 + (i % 80)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
        i % 1000
      );
      const mutated =
        i % 3 === 0 ? base : i % 3 === 1 ? base.slice(0, 17) + ((Number(base[17]) + 1) % 10) : base.slice(0, 10) + '13' + base.slice(12);
      const ref = parseIdNumber(mutated);
      const mine = parseIdNumberField(mutated);
      expect(mine.ok).toBe(ref.ok);
      if (ref.ok && mine.ok) expect(mine.value).toBe(ref.value);
      if (!ref.ok && !mine.ok) expect(mine.code).toBe(idReasonCode(mutated));
      agreed++;
    }
    expect(agreed).toBe(3000);
  });
});

/** Run a CSV text through the scanner and the row processor of a feed (no database). */
function processCsv(feedName: string, text: string, fileId = 7) {
  const feed = FEED_BY_NAME.get(feedName)!;
  const quarantined: { line: number | null; code: string; message: string; raw: string | null }[] = [];
  const sink = {
    add: (line: number | null, raw: string | null, problems: readonly Problem[]) =>
      quarantined.push({ line, code: problems[0].code, message: problems.map((p) => p.message).join('; '), raw })
  };
  let proc: RowProcessor | null = null;
  const rows: string[] = [];
  const scanner = new CsvScanner((rec) => {
    if (!proc) {
      const names: string[] = [];
      for (let k = 0; k < rec.count; k++) names.push(rec.buf.toString('utf8', rec.starts[k], rec.ends[k]));
      proc = new RowProcessor(feed, names, CATALOGUES, fileId, sink, { encodingProblem: 'bad bytes' });
      return;
    }
    proc.process(rec);
  });
  scanner.push(Buffer.from(text, 'utf8'));
  scanner.end();
  const p = proc as unknown as RowProcessor;
  for (const b of p.drain()) rows.push(...b.toString('utf8').split('\n').filter(Boolean));
  return { rows, quarantined, counts: p.counts, unknown: p.unknownColumns };
}

const M = makeIdNumber('110101', '1950-03-07', 123);
const F = makeIdNumber('110101', '1962-11-20', 124);

describe('rows', () => {
  it('writes COPY rows with file_id and line_no, derived and canonical values', () => {
    const r = processCsv(
      'persons',
      `id_number,name,sex,birth_date,hukou_region,status,retirement_basis,updated_at\n` +
        `${M},张三,,,110101001001,retired,,2024-01-02 10:00\n` +
        `${F.toLowerCase()},"李\\四",f,1962/11/20,110101001001,insured,F55,\n`
    );
    expect(r.quarantined).toEqual([]);
    expect(r.rows).toEqual([
      `${M}\t张三\tM\t1950-03-07\t\\N\t110101001001\t\\N\t\\N\tretired\t\\N\t\\N\t2024-01-02 10:00:00\t7\t2`,
      `${F}\t李\\\\四\tF\t1962-11-20\t\\N\t110101001001\t\\N\t\\N\tinsured\tF55\t\\N\t\\N\t7\t3`
    ]);
  });

  it('quarantines each kind of bad row with its reason code and keeps the good ones', () => {
    const r = processCsv(
      'persons',
      [
        'ID_Number , Name,sex,birth_date,hukou_region,status,retirement_basis,shoe_size',
        `${M},A,F,,110101001001,retired,,42`, // sex_mismatch
        `${M},A,,1950-03-08,110101001001,retired,,`, // birth_date_mismatch
        `${M},A,,,110101001001,insured,,`, // missing_required (basis for insured)
        `${M},A,,,110101001001,insured,F50,`, // basis_mismatch
        `${M},,,,110101001001,retired,,`, // missing_required (name)
        `${M},A,,,11010A,retired,,`, // bad_region_code
        `${M},A,,,110101001001,dead,,`, // unknown_enum
        `${M},A,X,,110101001001,retired,,`, // unknown_enum (sex)
        `${M},A,,1950-02-30,110101001001,retired,,`, // bad_date
        `${M},A,,,110101001001,retired`, // field_count
        `${M},A,,,110101001001,retired,M60,` // good
      ].join('\n')
    );
    expect(r.quarantined.map((q) => [q.line, q.code])).toEqual([
      [2, 'sex_mismatch'],
      [3, 'birth_date_mismatch'],
      [4, 'missing_required'],
      [5, 'basis_mismatch'],
      [6, 'missing_required'],
      [7, 'bad_region_code'],
      [8, 'unknown_enum'],
      [9, 'unknown_enum'],
      [10, 'bad_date'],
      [11, 'field_count']
    ]);
    expect(r.quarantined[0].message).toMatch(/sex F does not agree with id_number/);
    expect(r.quarantined[2].message).toBe('retirement_basis is required when status is insured');
    expect(r.quarantined[4].message).toBe('name is required but empty');
    expect(r.quarantined[9].raw).toBe(`${M},A,,,110101001001,retired`);
    expect(r.rows).toHaveLength(1);
    expect(r.unknown).toEqual(['shoe_size']);
    expect(r.counts).toEqual({ read: 11, valid: 1, quarantined: 10 });
  });

  it('checks catalogue codes, enumerations, amounts, periods and ids on payments', () => {
    const r = processCsv(
      'payments',
      [
        'payment_id,id_number,scheme_code,period,amount,paid_at,status,account_no',
        `P1,${M},ENT,2024-01,3125.50,2024-01-15T09:00:00+08:00,paid,622`,
        `P2,${M},XXX,2024-01,3125.50,,paid,622`,
        `P3,${M},ENT,2024-13,3125.50,,paid,622`,
        `P4,${M},ENT,2024-01,3125.505,,paid,622`,
        `P5,${M},ENT,2024-01,-1,,paid,622`,
        `P6,${M},ENT,2024-01,1e3,,paid,622`,
        `P7,${M},ENT,2024-01,1,15/01/2024,paid,622`,
        `P8,${M},ENT,2024-01,1,,unpaid,622`,
        `P9,123,ENT,2024-01,1,,paid,622`,
        `P10,${M.slice(0, 17)}${M[17] === '1' ? '2' : '1'},ENT,2024-01,1,,paid,622`,
        `P11,${M},ent,202401,1,,PAID,`
      ].join('\r\n') + '\r\n'
    );
    expect(r.quarantined.map((q) => q.code)).toEqual([
      'unknown_code',
      'bad_period',
      'bad_money',
      'negative_money',
      'bad_money',
      'bad_timestamp',
      'unknown_enum',
      'id_length',
      'id_check_char'
    ]);
    expect(r.quarantined[0].message).toBe('scheme_code "XXX" is not in the scheme catalogue (ref_schemes)');
    expect(r.quarantined[2].message).toBe('amount "3125.505" has more than 2 decimals');
    expect(r.rows).toEqual([
      `P1\t${M}\tENT\t2024-01-01\t3125.50\t2024-01-15 09:00:00+08:00\tpaid\t622\t7\t2`,
      `P11\t${M}\tENT\t2024-01-01\t1\t\\N\tpaid\t\\N\t7\t12`
    ]);
  });

  it('collects every problem of a row, reported under the first one', () => {
    const r = processCsv('payments', `payment_id,id_number,scheme_code,period,amount,status\nP1,${M},XXX,2024-13,1,paid\n`);
    expect(r.quarantined[0].code).toBe('unknown_code');
    expect(r.quarantined[0].message).toMatch(/scheme_code .*; period "2024-13"/);
  });

  it('applies the feed rules: ranges, the region tree, satisfaction, fund balance sign', () => {
    expect(
      processCsv(
        'enrollments',
        `enrollment_id,id_number,scheme_code,status,monthly_amount,start_period,end_period\nE1,${M},ENT,active,100,2024-05,2024-04\nE2,${M},ENT,active,100,2024-05,2024-05\n`
      ).quarantined.map((q) => q.code)
    ).toEqual(['end_before_start']);
    expect(
      processCsv('imprisonments', `record_id,id_number,start_date,end_date,source\nI1,${M},2024-05-01,2024-04-30,prison\n`).quarantined[0]
        .code
    ).toBe('end_before_start');
    expect(processCsv('hardship', `id_number,kind,since,until\n${M},disability,2024-05-01,2023-01-01\n`).quarantined[0].code).toBe(
      'end_before_start'
    );
    const regions = processCsv(
      'regions',
      'code,name,level,parent_code\n3301,City,city,\n330101,D,district,3301\n330102,E,district,\n3302,C2,city,33\n330103,F,district,330103\n'
    );
    expect(regions.quarantined.map((q) => [q.line, q.code])).toEqual([
      [4, 'missing_required'],
      [5, 'bad_parent'],
      [6, 'bad_parent']
    ]);
    const acts = processCsv(
      'activities',
      `signup_id,id_number,activity_code,kind,signed_up_at,satisfaction\nA1,${M},X,activity,2024-01-01,5\nA2,${M},X,activity,2024-01-01,6\nA3,${M},X,course,2024-01-01,\n`
    );
    expect(acts.quarantined.map((q) => q.code)).toEqual(['out_of_range', 'unknown_enum']);
    const fund = processCsv('fund', 'period,scheme_code,income,expenditure,balance\n2024-01,ENT,100,200,-100.50\n2024-02,ENT,-1,200,5\n');
    expect(fund.quarantined.map((q) => q.code)).toEqual(['negative_money']);
    expect(fund.rows[0]).toBe('2024-01-01\tENT\t100\t200\t-100.50\t7\t2');
  });

  it('refuses free text holding a NUL character', () => {
    const r = processCsv(
      'evidence',
      `evidence_id,id_number,source,kind,occurred_at,detail\nE1,${M},GOV_APP,face_login,2024-01-01,a\u0000b\n`
    );
    expect(r.quarantined[0].code).toBe('bad_text');
  });

  it('rejects a file whose header misses a required column or repeats one', () => {
    const rejection = (feed: string, text: string) => {
      try {
        processCsv(feed, text);
        return null;
      } catch (e) {
        return e instanceof FileRejection ? { code: e.code, message: e.message } : String(e);
      }
    };
    expect(rejection('payments', 'payment_id,id_number,period,amount,status\n')).toEqual({
      code: 'missing_column',
      message: expect.stringMatching(/lacks required column scheme_code/)
    });
    expect(rejection('regions', 'code,name,level,parent_code,CODE\n')).toEqual({
      code: 'duplicate_column',
      message: expect.stringMatching(/code/)
    });
    expect(rejection('regions', 'code,name,level\n')).toEqual({ code: 'missing_column', message: expect.stringMatching(/parent_code/) });
    expect(rejection('regions', ' Code ,NAME,Level,parent_code,extra\n')).toBeNull();
  });
});

describe('reason codes', () => {
  it('documents every code the loader can write', async () => {
    const { REASON_CODES } = await import('../jobs/ingest/values.ts');
    const src = ['values.ts', 'rows.ts', 'load.ts', 'csv.ts']
      .map((f) => fs.readFileSync(path.join(import.meta.dirname, '../jobs/ingest', f), 'utf8'))
      .join('\n');
    const used = new Set(
      [
        ...src.matchAll(
          /code: '([a-z_]+)'|fail\(st, '([a-z_]+)'|FileRejection\('([a-z_]+)'|'(id_length|id_chars|id_birth_date|id_check_char)'/g
        )
      ].map((m) => m.slice(1).find(Boolean)!)
    );
    for (const c of used) expect(Object.keys(REASON_CODES), c).toContain(c);
    expect(used.size).toBeGreaterThan(20);
  });
});
