// The quarantine inventory: rows the feed contract rejects, each with exactly one defect, planted
// among good rows at fixed positions (or at the end of a file when it is shorter). Every bad row has
// its own natural key, so quarantining it leaves the good data — and so the rest of the ground
// truth — unchanged. The same inventory is planted at every scale.
import { checkCharacter, makeIdNumber } from '../../core/domain/id-number.ts';
import { fmtDay, type Day } from './calendar.ts';
import { csvField, type CsvFile } from './csv-writer.ts';
import type { Person } from './person.ts';
import type { Rng } from './rng.ts';

export type ReasonKind =
  | 'id_check_char'
  | 'id_length'
  | 'id_chars'
  | 'bad_date'
  | 'bad_period'
  | 'bad_money'
  | 'negative_money'
  | 'unknown_enum'
  | 'missing_required'
  | 'sex_mismatch'
  | 'birth_date_mismatch'
  | 'out_of_range'
  | 'bad_csv';

export interface QuarantineTruth {
  feed: string;
  file: string;
  line: number;
  reason_kind: ReasonKind;
  note: string;
}

/** What a bad row needs from the generator: a real person to refer to, or a phantom one. */
export interface BadRowContext {
  /** A clean, living recipient already written to the persons feed. */
  ref(): Person;
  /** A valid id number in the district that no real person has (sequence 900–999). */
  phantom(code6: string, sex: 'M' | 'F'): { id: string; birth: Day };
  communityCode(): string;
  rng: Rng;
}

type Builder = (c: BadRowContext, f: CsvFile) => string;

export interface BadRowSpec {
  feed: string;
  /** Which of the feed's main files (index modulo their count). */
  fileIndex: number;
  /** Plant after this many good rows (or at the end of a shorter file). */
  after: number;
  reason: ReasonKind;
  note: string;
  build: Builder;
  /** Must be the very last row of its file (an unterminated quote swallows what follows). */
  last?: boolean;
}

let counter = 0;
const key = (prefix: string) => `${prefix}${String(++counter).padStart(4, '0')}`;

/** Render a record in the file's own column order (headers may be shuffled). */
function line(f: CsvFile, rec: Record<string, string>): string {
  return f.columns.map((c) => csvField(rec[c] ?? '')).join(',');
}

function personRec(c: BadRowContext, f: CsvFile, over: Partial<Record<string, string>> & { sex: 'M' | 'F' }): Record<string, string> {
  const code6 = f.rel.match(/persons-(\d{6})/)?.[1] ?? '330602';
  const ph = c.phantom(code6, over.sex);
  const community = c.communityCode();
  return {
    id_number: ph.id,
    name: '测试甲',
    birth_date: fmtDay(ph.birth),
    phone: '13800000000',
    hukou_region: community,
    residence_region: '',
    residence_outside: '',
    status: 'retired',
    retirement_basis: over.sex === 'M' ? 'M60' : 'F55',
    retired_on: '2015-06-01',
    updated_at: '2026-03-01T10:00:00',
    ...over
  } as Record<string, string>;
}

function wrongCheck(id: string): string {
  const right = checkCharacter(id.slice(0, 17));
  const wrong = right === '0' ? '1' : right === 'X' ? '2' : right === '9' ? 'X' : String(Number(right) + 1);
  return id.slice(0, 17) + wrong;
}

function refPay(c: BadRowContext, over: Partial<Record<string, string>>): string {
  const p = c.ref();
  const e = p.enrollments[0];
  const rec: Record<string, string> = {
    payment_id: key('PMQ'),
    id_number: p.id,
    scheme_code: e.scheme,
    period: '2025-06',
    amount: '2980.50',
    paid_at: '2025-06-18T09:30:00+08:00',
    status: 'paid',
    account_no: e.account,
    ...over
  } as Record<string, string>;
  return ['payment_id', 'id_number', 'scheme_code', 'period', 'amount', 'paid_at', 'status', 'account_no']
    .map((k) => csvField(rec[k]))
    .join(',');
}

function refRow(f: CsvFile, base: Record<string, string>, over: Record<string, string>): string {
  return line(f, { ...base, ...over });
}

export const BAD_ROWS: BadRowSpec[] = [
  // ---- persons (district files; some are GB18030) ----
  {
    feed: 'persons',
    fileIndex: 0,
    after: 3,
    reason: 'id_check_char',
    note: 'check character off by one',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'M' });
      return line(f, { ...r, id_number: wrongCheck(r.id_number), name: '钱校验' });
    }
  },
  {
    feed: 'persons',
    fileIndex: 1,
    after: 5,
    reason: 'id_length',
    note: '17 characters',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'F' });
      return line(f, { ...r, id_number: r.id_number.slice(0, 17), sex: '', birth_date: '', name: '孙短号' });
    }
  },
  {
    feed: 'persons',
    fileIndex: 2,
    after: 8,
    reason: 'id_chars',
    note: 'letter O instead of zero',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'M' });
      return line(f, { ...r, id_number: r.id_number.slice(0, 10) + 'O' + r.id_number.slice(11), sex: '', birth_date: '', name: '李字母' });
    }
  },
  {
    feed: 'persons',
    fileIndex: 0,
    after: 13,
    reason: 'sex_mismatch',
    note: 'odd sequence (male) but sex F',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'M' }), sex: 'F', name: '周性别' })
  },
  {
    feed: 'persons',
    fileIndex: 1,
    after: 21,
    reason: 'birth_date_mismatch',
    note: 'birth_date one day off the id',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'F' });
      return line(f, { ...r, birth_date: fmtDay(Date.parse(r.birth_date) / 86_400_000 + 1), name: '吴生日' });
    }
  },
  {
    feed: 'persons',
    fileIndex: 2,
    after: 34,
    reason: 'unknown_enum',
    note: 'status "retiree"',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'F' }), status: 'retiree', name: '郑状态' })
  },
  {
    feed: 'persons',
    fileIndex: 0,
    after: 55,
    reason: 'unknown_enum',
    note: 'sex "U"',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'M' }), sex: 'U', name: '王未知' })
  },
  {
    feed: 'persons',
    fileIndex: 1,
    after: 89,
    reason: 'unknown_enum',
    note: 'retirement_basis "M65"',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'M' }), retirement_basis: 'M65', name: '冯基准' })
  },
  {
    feed: 'persons',
    fileIndex: 2,
    after: 144,
    reason: 'missing_required',
    note: 'name empty',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'F' }), name: '' })
  },
  {
    feed: 'persons',
    fileIndex: 0,
    after: 233,
    reason: 'missing_required',
    note: 'hukou_region empty',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'F' }), hukou_region: '', name: '陈无户' })
  },
  {
    feed: 'persons',
    fileIndex: 1,
    after: 377,
    reason: 'bad_date',
    note: 'retired_on 2019-02-29 does not exist',
    build: (c, f) => line(f, { ...personRec(c, f, { sex: 'M' }), retired_on: '2019-02-29', name: '褚日期' })
  },
  {
    feed: 'persons',
    fileIndex: 2,
    after: 610,
    reason: 'bad_date',
    note: 'birth_date as DD/MM/YYYY',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'F' });
      const [y, m, d] = r.birth_date.split('-');
      return line(f, { ...r, birth_date: `${d}/${m}/${y}`, name: '卫格式' });
    }
  },
  {
    feed: 'persons',
    fileIndex: 0,
    after: 987,
    reason: 'bad_csv',
    note: 'only 3 fields',
    build: (c, f) => {
      const r = personRec(c, f, { sex: 'M' });
      return [r.id_number, '蒋缺列', 'M'].join(',');
    }
  },

  // ---- regions (GB18030) ----
  {
    feed: 'regions',
    fileIndex: 0,
    after: 7,
    reason: 'unknown_enum',
    note: 'level "village"',
    build: (c, f) => line(f, { code: '330699901001', name: '测试村', level: 'village', parent_code: '330602001000' })
  },
  {
    feed: 'regions',
    fileIndex: 0,
    after: 12,
    reason: 'missing_required',
    note: 'name empty',
    build: (c, f) => line(f, { code: '330699902001', name: '', level: 'community', parent_code: '330602001000' })
  },

  // ---- enrollments ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => {
      const p = c.ref();
      return {
        enrollment_id: key('ENQ'),
        id_number: p.id,
        scheme_code: 'ENT',
        status: 'active',
        monthly_amount: '3000.00',
        start_period: '2020-01',
        end_period: '',
        account_no: p.enrollments[0].account,
        suspended_reason: '',
        updated_at: '2026-01-05T10:00:00'
      };
    };
    const specs: [number, ReasonKind, string, Record<string, string>][] = [
      [4, 'unknown_enum', 'scheme_code "PEN"', { scheme_code: 'PEN' }],
      [15, 'unknown_enum', 'status "paused"', { status: 'paused' }],
      [40, 'bad_money', 'three decimals', { monthly_amount: '3000.125' }],
      [90, 'negative_money', 'negative monthly_amount', { monthly_amount: '-250.00' }],
      [160, 'bad_period', 'start_period month 13', { start_period: '2025-13' }],
      [300, 'missing_required', 'monthly_amount empty', { monthly_amount: '' }]
    ];
    return specs.map(([after, reason, note, over], i): BadRowSpec => ({
      feed: 'enrollments',
      fileIndex: i % 2,
      after,
      reason,
      note,
      build: (c, f) => refRow(f, base(c), over)
    }));
  })(),

  // ---- payments ----
  { feed: 'payments', fileIndex: 0, after: 10, reason: 'bad_money', note: 'amount "abc"', build: (c) => refPay(c, { amount: 'abc' }) },
  {
    feed: 'payments',
    fileIndex: 1,
    after: 25,
    reason: 'bad_money',
    note: 'thousands separator',
    build: (c) => refPay(c, { amount: '3,125.50' })
  },
  {
    feed: 'payments',
    fileIndex: 2,
    after: 60,
    reason: 'bad_money',
    note: 'three decimals',
    build: (c) => refPay(c, { amount: '2980.505' })
  },
  {
    feed: 'payments',
    fileIndex: 0,
    after: 140,
    reason: 'negative_money',
    note: 'negative amount',
    build: (c) => refPay(c, { amount: '-2980.50', status: 'returned' })
  },
  {
    feed: 'payments',
    fileIndex: 1,
    after: 333,
    reason: 'bad_period',
    note: 'period 202513',
    build: (c) => refPay(c, { period: '202513' })
  },
  {
    feed: 'payments',
    fileIndex: 2,
    after: 777,
    reason: 'bad_period',
    note: 'period "10/2025"',
    build: (c) => refPay(c, { period: '10/2025' })
  },
  {
    feed: 'payments',
    fileIndex: 0,
    after: 1500,
    reason: 'unknown_enum',
    note: 'status "pending"',
    build: (c) => refPay(c, { status: 'pending' })
  },
  {
    feed: 'payments',
    fileIndex: 1,
    after: 2500,
    reason: 'unknown_enum',
    note: 'scheme_code "XXX"',
    build: (c) => refPay(c, { scheme_code: 'XXX' })
  },
  {
    feed: 'payments',
    fileIndex: 2,
    after: 4000,
    reason: 'id_chars',
    note: 'masked id with asterisks',
    build: (c) => {
      const id = c.ref().id;
      return refPay(c, { id_number: id.slice(0, 6) + '********' + id.slice(14) });
    }
  },
  {
    feed: 'payments',
    fileIndex: 0,
    after: 6000,
    reason: 'missing_required',
    note: 'amount empty',
    build: (c) => refPay(c, { amount: '' })
  },
  {
    feed: 'payments',
    fileIndex: 1,
    after: 9000,
    reason: 'bad_csv',
    note: 'nine fields instead of eight',
    build: (c) => refPay(c, {}) + ',EXTRA'
  },

  // ---- evidence ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => {
      const p = c.ref();
      return {
        evidence_id: key('EVQ'),
        id_number: p.id,
        source: 'TRANSIT_CARD',
        kind: 'bus_swipe',
        occurred_at: '2026-05-12T08:15:00',
        region: (p.residence ?? p.hukou).code,
        detail: '12路',
        batch_no: 'Q'
      };
    };
    const specs: [number, ReasonKind, string, (c: BadRowContext) => Record<string, string>][] = [
      [6, 'unknown_enum', 'source "WECHAT_PAY"', () => ({ source: 'WECHAT_PAY' })],
      [30, 'unknown_enum', 'kind "selfie"', () => ({ kind: 'selfie' })],
      [120, 'bad_date', 'occurred_at "yesterday"', () => ({ occurred_at: 'yesterday' })],
      [480, 'bad_date', 'occurred_at 2026-02-30', () => ({ occurred_at: '2026-02-30T10:00:00' })],
      [1200, 'id_check_char', 'wrong check character', (c) => ({ id_number: wrongCheck(c.ref().id) })],
      [2400, 'missing_required', 'occurred_at empty', () => ({ occurred_at: '' })]
    ];
    const out: BadRowSpec[] = specs.map(([after, reason, note, over], i) => ({
      feed: 'evidence',
      fileIndex: i,
      after,
      reason,
      note,
      build: (c, f) => refRow(f, base(c), over(c))
    }));
    out.push({
      feed: 'evidence',
      fileIndex: 6,
      after: 50,
      reason: 'bad_csv',
      note: 'stray quote inside an unquoted field (RFC 4180 violation)',
      build: (c, f) =>
        f.columns
          .map((col) => {
            const b = base(c);
            return col === 'detail'
              ? '药店"购药'
              : csvField(col === 'source' ? 'PHARMACY_NET' : col === 'kind' ? 'pharmacy_purchase' : b[col]);
          })
          .join(',')
    });
    return out;
  })(),

  // ---- certifications (all in the newest year's file) ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      certification_id: key('CFQ'),
      id_number: c.ref().id,
      method: 'face_online',
      certified_at: '2026-04-02T10:20:00',
      result: 'pass',
      operator: 'GOV_APP'
    });
    const specs: [number, ReasonKind, string, Record<string, string>][] = [
      [5, 'unknown_enum', 'method "video"', { method: 'video' }],
      [20, 'unknown_enum', 'result "ok"', { result: 'ok' }],
      [70, 'bad_date', 'certified_at month 13', { certified_at: '2026-13-05T10:00:00' }]
    ];
    return specs.map(([after, reason, note, over]): BadRowSpec => ({
      feed: 'certifications',
      fileIndex: -1,
      after,
      reason,
      note,
      build: (c, f) => refRow(f, base(c), over)
    }));
  })(),

  // ---- deaths ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => {
      const p = c.ref();
      return {
        record_id: key('DRQ'),
        id_number: p.id,
        death_date: '2025-03-15',
        source: 'public_security',
        recorded_at: '2025-04-01T09:00:00',
        name: p.name
      };
    };
    const specs: [number, number, ReasonKind, string, Record<string, string>][] = [
      [0, 2, 'bad_date', 'death_date 2025-02-29 does not exist', { death_date: '2025-02-29' }],
      [1, 4, 'bad_date', 'death_date as DD.MM.YYYY', { death_date: '15.03.2025' }],
      [1, 9, 'unknown_enum', 'source "hospital"', { source: 'hospital' }],
      [0, 15, 'id_length', '17 characters', {}]
    ];
    return specs.map(([fileIndex, after, reason, note, over]): BadRowSpec => ({
      feed: 'deaths',
      fileIndex,
      after,
      reason,
      note,
      build: (c, f) => {
        const b = base(c);
        if (reason === 'id_length') b.id_number = b.id_number.slice(0, 17);
        b.source = f.rel.includes('health') ? 'health' : 'public_security';
        return refRow(f, b, over);
      }
    }));
  })(),

  // ---- imprisonments ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      record_id: key('IMQ'),
      id_number: c.ref().id,
      start_date: '2025-06-10',
      end_date: '',
      source: 'prison',
      recorded_at: '2025-07-01T10:00:00'
    });
    return [
      {
        feed: 'imprisonments',
        fileIndex: 0,
        after: 3,
        reason: 'bad_date',
        note: 'start_date month 13',
        build: (c, f) => refRow(f, base(c), { start_date: '2025-13-01' })
      },
      {
        feed: 'imprisonments',
        fileIndex: 0,
        after: 8,
        reason: 'unknown_enum',
        note: 'source "police"',
        build: (c, f) => refRow(f, base(c), { source: 'police' })
      }
    ] satisfies BadRowSpec[];
  })(),

  // ---- subsidies ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      payout_id: key('SBQ'),
      id_number: c.ref().id,
      project_code: 'AGE80',
      period: '2026-05',
      amount: '100.00',
      paid_at: '2026-05-25T10:00:00'
    });
    const specs: [number, ReasonKind, string, Record<string, string>][] = [
      [5, 'unknown_enum', 'project_code "AGE90"', { project_code: 'AGE90' }],
      [50, 'bad_money', 'three decimals', { amount: '100.001' }],
      [200, 'negative_money', 'negative amount', { amount: '-100.00' }],
      [800, 'bad_period', 'period "May-2026"', { period: 'May-2026' }]
    ];
    return specs.map(([after, reason, note, over], i): BadRowSpec => ({
      feed: 'subsidies',
      fileIndex: i,
      after,
      reason,
      note,
      build: (c, f) => refRow(f, base(c), over)
    }));
  })(),

  // ---- hardship ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      id_number: c.ref().id,
      kind: 'low_income',
      level: '',
      since: '2021-03-01',
      until: ''
    });
    return [
      {
        feed: 'hardship',
        fileIndex: 0,
        after: 2,
        reason: 'unknown_enum',
        note: 'kind "poor"',
        build: (c, f) => refRow(f, base(c), { kind: 'poor', since: '2021-03-02' })
      },
      {
        feed: 'hardship',
        fileIndex: 0,
        after: 6,
        reason: 'missing_required',
        note: 'since empty',
        build: (c, f) => refRow(f, base(c), { since: '' })
      },
      {
        feed: 'hardship',
        fileIndex: 1,
        after: 4,
        reason: 'bad_date',
        note: 'until 2026/02/30 does not exist',
        build: (c, f) => refRow(f, base(c), { kind: 'disability', level: '2', since: '2019-05-05', until: '2026/02/30' })
      }
    ] satisfies BadRowSpec[];
  })(),

  // ---- checkups ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      checkup_id: key('CKQ'),
      id_number: c.ref().id,
      hospital: '越州市人民医院',
      booked_for: '2026-04-20',
      attended_at: '2026-04-20T08:30:00',
      result: 'normal'
    });
    return [
      {
        feed: 'checkups',
        fileIndex: 0,
        after: 4,
        reason: 'unknown_enum',
        note: 'result "ok"',
        build: (c, f) => refRow(f, base(c), { result: 'ok' })
      },
      {
        feed: 'checkups',
        fileIndex: 0,
        after: 40,
        reason: 'bad_date',
        note: 'booked_for 2026-04-31 does not exist',
        build: (c, f) => refRow(f, base(c), { booked_for: '2026-04-31', attended_at: '', result: '' })
      }
    ] satisfies BadRowSpec[];
  })(),

  // ---- fund ----
  {
    feed: 'fund',
    fileIndex: 0,
    after: 3,
    reason: 'bad_money',
    note: 'income "N/A"',
    build: (c, f) => line(f, { period: '2019-01', scheme_code: 'ENT', income: 'N/A', expenditure: '1000.00', balance: '5000.00' })
  },
  {
    feed: 'fund',
    fileIndex: 0,
    after: 9,
    reason: 'negative_money',
    note: 'negative expenditure',
    build: (c, f) => line(f, { period: '2019-02', scheme_code: 'ENT', income: '1000.00', expenditure: '-1200.00', balance: '5000.00' })
  },
  {
    feed: 'fund',
    fileIndex: 0,
    after: 17,
    reason: 'bad_period',
    note: 'period 2026-13',
    build: (c, f) => line(f, { period: '2026-13', scheme_code: 'ENT', income: '1000.00', expenditure: '1200.00', balance: '5000.00' })
  },

  // ---- activities ----
  ...(() => {
    const base = (c: BadRowContext): Record<string, string> => ({
      signup_id: key('SUQ'),
      id_number: c.ref().id,
      activity_code: 'ACT-2026-001',
      kind: 'activity',
      signed_up_at: '2026-03-01T09:00:00',
      attended_at: '2026-03-10T09:00:00',
      satisfaction: '5'
    });
    return [
      {
        feed: 'activities',
        fileIndex: 0,
        after: 3,
        reason: 'unknown_enum',
        note: 'kind "sport"',
        build: (c, f) => refRow(f, base(c), { kind: 'sport' })
      },
      {
        feed: 'activities',
        fileIndex: 0,
        after: 30,
        reason: 'out_of_range',
        note: 'satisfaction 6 (1–5)',
        build: (c, f) => refRow(f, base(c), { satisfaction: '6' })
      },
      {
        feed: 'activities',
        fileIndex: 0,
        after: 1e12,
        reason: 'bad_csv',
        note: 'unterminated quoted field at the end of the file',
        last: true,
        build: (c, f) => f.columns.map((col) => (col === 'activity_code' ? '"ACT-2026-002,未闭合的引号' : csvField(base(c)[col]))).join(',')
      }
    ] satisfies BadRowSpec[];
  })()
];

export function resetBadRowKeys(): void {
  counter = 0;
}

/** Valid id numbers reserved for phantom people (sequence 900–999 never used by real people). */
export function phantomFactory(rng: Rng): (code6: string, sex: 'M' | 'F') => { id: string; birth: Day } {
  let n = 0;
  return (code6, sex) => {
    n++;
    const birth = Date.UTC(1940 + rng.int(0, 20), rng.int(0, 11), rng.int(1, 28)) / 86_400_000;
    const seq = 900 + ((n * 2 + (sex === 'M' ? 1 : 0)) % 100);
    return { id: makeIdNumber(code6, fmtDay(birth), seq), birth };
  };
}
