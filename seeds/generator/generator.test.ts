// The synthetic-city generator: determinism, and an independent re-reading of the written inbox
// (its own CSV reading, validation and rule implementations, not the generator's) that must
// reproduce the ground truth: quarantine list, counts, alerts, certification, corrections.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdNumber } from '../../core/domain/id-number.ts';
import { evidenceKinds, evidenceSources, schemes, subsidyProjects } from '../../core/reference/index.ts';
import { FEEDS, generateCity, readGroundTruth, SCALES, type GroundTruth } from './index.ts';
import { retirementMonth, statutoryAgeMonths } from './retirement.ts';

// ---- an independent reader ------------------------------------------------------------------

const DAY_MS = 86_400_000;
const toDay = (y: number, m: number, d: number): number | null => {
  const t = Date.UTC(y, m - 1, d);
  const dt = new Date(t);
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d ? t / DAY_MS : null;
};
const isoOf = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);

function parseDate(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) ?? /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(v) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  return m ? toDay(+m[1], +m[2], +m[3]) : null;
}
/** Local (Asia/Shanghai) day of an ISO timestamp. */
function parseTs(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m || toDay(+m[1], +m[2], +m[3]) === null || +m[4] > 23 || +m[5] > 59 || +m[6] > 59) return null;
  const utc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  let offsetMin = 480;
  if (m[7] === 'Z') offsetMin = 0;
  else if (m[7]) offsetMin = (m[7][0] === '-' ? -1 : 1) * (+m[7].slice(1, 3) * 60 + +m[7].slice(4, 6));
  return Math.floor((utc - offsetMin * 60_000 + 480 * 60_000) / DAY_MS);
}
function parsePeriod(v: string): number | null {
  const m = /^(\d{4})-?(\d{2})$/.exec(v);
  return m && +m[2] >= 1 && +m[2] <= 12 ? +m[1] * 12 + +m[2] - 1 : null;
}
const fen = (v: string) => Math.round(Number(v) * 100);
const periodStr = (p: number) => `${Math.floor(p / 12)}-${String((p % 12) + 1).padStart(2, '0')}`;
const monthOfDay = (d: number) => {
  const dt = new Date(d * DAY_MS);
  return dt.getUTCFullYear() * 12 + dt.getUTCMonth();
};
const firstDayOf = (p: number) => Date.UTC(Math.floor(p / 12), p % 12, 1) / DAY_MS;
const lastDayOf = (p: number) => firstDayOf(p + 1) - 1;
const minusMonths = (d: number, n: number) => {
  const dt = new Date(d * DAY_MS);
  const y = dt.getUTCFullYear();
  const m = dt.getUTCMonth() - n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(dt.getUTCDate(), last)) / DAY_MS;
};

const REQUIRED: Record<string, string[]> = {
  regions: ['code', 'name', 'level'],
  persons: ['id_number', 'name', 'hukou_region', 'status'],
  enrollments: ['enrollment_id', 'id_number', 'scheme_code', 'status', 'monthly_amount', 'start_period'],
  payments: ['payment_id', 'id_number', 'scheme_code', 'period', 'amount', 'status'],
  evidence: ['evidence_id', 'id_number', 'source', 'kind', 'occurred_at'],
  certifications: ['certification_id', 'id_number', 'method', 'certified_at', 'result'],
  deaths: ['record_id', 'id_number', 'death_date', 'source'],
  imprisonments: ['record_id', 'id_number', 'start_date', 'source'],
  subsidies: ['payout_id', 'id_number', 'project_code', 'period', 'amount'],
  hardship: ['id_number', 'kind', 'since'],
  checkups: ['checkup_id', 'id_number', 'booked_for'],
  fund: ['period', 'scheme_code', 'income', 'expenditure', 'balance'],
  activities: ['signup_id', 'id_number', 'activity_code', 'kind', 'signed_up_at'],
  payroll_draft: ['draft_id', 'line_id', 'id_number', 'scheme_code', 'period', 'amount', 'account_no', 'prepared_at']
};
const HEADER_REQUIRED: Record<string, string[]> = { ...REQUIRED, regions: ['code', 'name', 'level', 'parent_code'] };
const SCHEMES = schemes.map((s) => s.code);
const ENUMS: Record<string, Record<string, string[]>> = {
  regions: { level: ['city', 'district', 'town', 'community'] },
  persons: { sex: ['M', 'F'], status: ['insured', 'retired'], retirement_basis: ['M60', 'F55', 'F50'] },
  enrollments: { scheme_code: SCHEMES, status: ['active', 'suspended', 'terminated'] },
  payments: { scheme_code: SCHEMES, status: ['paid', 'failed', 'returned'] },
  evidence: { source: evidenceSources.map((s) => s.code), kind: evidenceKinds.map((k) => k.kind) },
  certifications: { method: ['face_online', 'field_visit', 'kiosk', 'counter'], result: ['pass', 'fail'] },
  deaths: { source: ['public_security', 'health', 'civil_affairs', 'court'], status: ['valid', 'withdrawn'] },
  imprisonments: { source: ['prison', 'court', 'public_security'], status: ['valid', 'withdrawn'] },
  subsidies: { project_code: subsidyProjects.map((p) => p.code) },
  hardship: { kind: ['minimum_living', 'extreme_poverty', 'disability', 'low_income'] },
  checkups: { result: ['normal', 'abnormal', 'pending'] },
  fund: { scheme_code: SCHEMES },
  activities: { kind: ['activity', 'education'] },
  payroll_draft: { scheme_code: SCHEMES }
};
const DATES: Record<string, string[]> = {
  persons: ['birth_date', 'retired_on'],
  deaths: ['death_date'],
  imprisonments: ['start_date', 'end_date'],
  hardship: ['since', 'until'],
  checkups: ['booked_for']
};
const STAMPS: Record<string, string[]> = {
  persons: ['updated_at'],
  enrollments: ['updated_at'],
  payments: ['paid_at'],
  evidence: ['occurred_at'],
  certifications: ['certified_at'],
  deaths: ['recorded_at'],
  imprisonments: ['recorded_at'],
  subsidies: ['paid_at'],
  checkups: ['attended_at'],
  activities: ['signed_up_at', 'attended_at'],
  payroll_draft: ['prepared_at']
};
const PERIODS: Record<string, string[]> = {
  enrollments: ['start_period', 'end_period'],
  payments: ['period'],
  subsidies: ['period'],
  fund: ['period'],
  payroll_draft: ['period']
};
const MONEY: Record<string, string[]> = {
  enrollments: ['monthly_amount'],
  payments: ['amount'],
  subsidies: ['amount'],
  fund: ['income', 'expenditure', 'balance'],
  payroll_draft: ['amount']
};

function idReason(v: string): string | null {
  const r = parseIdNumber(v);
  if (r.ok) return null;
  if (r.reason.includes('characters (or 15')) return 'id_length';
  if (r.reason.includes('other than digits')) return 'id_chars';
  if (r.reason.includes('check character')) return 'id_check_char';
  return 'bad_id';
}

/** The reason a row must be quarantined, or null. Independent of the generator's own code. */
function rowReason(feed: string, header: string[], fields: string[]): string | null {
  if (fields.length !== header.length) return 'bad_csv';
  const r: Record<string, string> = {};
  header.forEach((h, i) => (r[h] = fields[i].trim()));
  for (const c of REQUIRED[feed]) if (!r[c]) return 'missing_required';
  if (r.id_number !== undefined) {
    const why = idReason(r.id_number);
    if (why) return why;
  }
  for (const [col, allowed] of Object.entries(ENUMS[feed] ?? {})) if (r[col] && !allowed.includes(r[col])) return 'unknown_enum';
  for (const c of DATES[feed] ?? []) if (r[c] && parseDate(r[c]) === null) return 'bad_date';
  for (const c of STAMPS[feed] ?? []) if (r[c] && parseTs(r[c]) === null) return 'bad_date';
  for (const c of PERIODS[feed] ?? []) if (r[c] && parsePeriod(r[c]) === null) return 'bad_period';
  for (const c of MONEY[feed] ?? []) {
    if (!r[c]) continue;
    if (/^-\d+(\.\d{1,2})?$/.test(r[c])) return 'negative_money';
    if (!/^\d+(\.\d{1,2})?$/.test(r[c])) return 'bad_money';
  }
  if (feed === 'activities' && r.satisfaction && !['1', '2', '3', '4', '5'].includes(r.satisfaction)) return 'out_of_range';
  if (feed === 'persons') {
    const id = parseIdNumber(r.id_number);
    if (id.ok && r.sex && r.sex !== id.sex) return 'sex_mismatch';
    if (id.ok && r.birth_date && isoOf(parseDate(r.birth_date)!) !== id.birthDate) return 'birth_date_mismatch';
  }
  return null;
}

interface Row {
  feed: string;
  file: string;
  line: number;
  r: Record<string, string>;
}
interface Inbox {
  rows: Row[];
  quarantine: { feed: string; file: string; line: number; reason_kind: string }[];
  unreadable: { feed: string; file: string; reason_kind: string }[];
  perFeed: Record<string, { rows: number; valid: number }>;
  decoded: Map<string, { text: string; encoding: string }>;
}

function decode(buf: Buffer): { text: string; encoding: string } {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return { text: buf.subarray(3).toString('utf8'), encoding: 'utf8-bom' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: 'utf8' };
  } catch {
    return { text: iconv.decode(buf, 'gb18030'), encoding: 'gb18030' };
  }
}

function readInbox(dir: string, skip: Set<string>): Inbox {
  const out: Inbox = { rows: [], quarantine: [], unreadable: [], perFeed: {}, decoded: new Map() };
  for (const folder of fs.readdirSync(dir).sort()) {
    if (folder.startsWith('.')) continue;
    for (const name of fs.readdirSync(path.join(dir, folder)).sort()) {
      if (!name.endsWith('.csv')) continue;
      const file = `${folder}/${name}`;
      if (skip.has(file)) continue;
      if (!(FEEDS as readonly string[]).includes(folder)) {
        out.unreadable.push({ feed: folder, file, reason_kind: 'unknown_feed' });
        continue;
      }
      const buf = fs.readFileSync(path.join(dir, file));
      if (buf.includes(0)) {
        out.unreadable.push({ feed: folder, file, reason_kind: 'not_csv' });
        continue;
      }
      const dec = decode(buf);
      out.decoded.set(file, dec);
      const skipped: number[] = [];
      const records = parse(dec.text, {
        relax_column_count: true,
        skip_records_with_error: true,
        info: true,
        raw: true,
        skip_empty_lines: true,
        on_skip: (err: { lines?: number } | undefined) => void skipped.push(err?.lines ?? -1)
      } as never) as unknown as { record: string[]; info: { lines: number }; raw: string }[];
      const header = records[0].record.map((h) => h.trim().toLowerCase());
      if (HEADER_REQUIRED[folder].some((c) => !header.includes(c))) {
        out.unreadable.push({ feed: folder, file, reason_kind: 'missing_column' });
        continue;
      }
      const pf = (out.perFeed[folder] ??= { rows: 0, valid: 0 });
      for (const line of skipped) {
        pf.rows++;
        out.quarantine.push({ feed: folder, file, line, reason_kind: 'bad_csv' });
      }
      for (const rec of records.slice(1)) {
        const start = rec.info.lines - (rec.raw.replace(/\r?\n$/, '').split('\n').length - 1);
        pf.rows++;
        const why = rowReason(folder, header, rec.record);
        if (why) {
          out.quarantine.push({ feed: folder, file, line: start, reason_kind: why });
          continue;
        }
        pf.valid++;
        const r: Record<string, string> = {};
        header.forEach((h, i) => (r[h] = rec.record[i].trim()));
        if (r.id_number) r.id_number = (parseIdNumber(r.id_number) as { value: string }).value;
        out.rows.push({ feed: folder, file, line: start, r });
      }
    }
  }
  return out;
}

// ---- independent rule implementations ------------------------------------------------------------

const EXCL = new Set(schemes.filter((s) => s.exclusive_group === 'pension').map((s) => s.code));
const STRONG = new Set(evidenceKinds.filter((k) => k.strength === 'strong').map((k) => k.kind));

interface Model {
  asOf: number;
  persons: Map<string, Record<string, string>>;
  enrollments: Map<string, Record<string, string>>;
  payments: Row['r'][];
  evidence: Row['r'][];
  certs: Row['r'][];
  deaths: Map<string, number>;
  custody: Map<string, { start: number; end: number | null }[]>;
}

function lastWins(rows: Row[], feed: string, key: (r: Record<string, string>) => string): Map<string, Record<string, string>> {
  const m = new Map<string, Record<string, string>>();
  for (const row of rows.filter((x) => x.feed === feed).sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line))
    m.set(key(row.r), row.r);
  return m;
}

function buildModel(inbox: Inbox, asOf: string): Model {
  const rows = inbox.rows;
  // a record withdrawn (before as-of: the generator dates every withdrawal so) counts for nothing
  const deaths = new Map<string, number>();
  for (const r of lastWins(rows, 'deaths', (r) => r.record_id).values()) {
    if (r.status === 'withdrawn') continue;
    const d = parseDate(r.death_date)!;
    deaths.set(r.id_number, Math.min(deaths.get(r.id_number) ?? Infinity, d));
  }
  const custody = new Map<string, { start: number; end: number | null }[]>();
  for (const r of lastWins(rows, 'imprisonments', (r) => r.record_id).values()) {
    if (r.status === 'withdrawn') continue;
    const list = custody.get(r.id_number) ?? [];
    list.push({ start: parseDate(r.start_date)!, end: r.end_date ? parseDate(r.end_date)! : null });
    custody.set(r.id_number, list);
  }
  return {
    asOf: parseDate(asOf)!,
    persons: lastWins(rows, 'persons', (r) => r.id_number),
    enrollments: lastWins(rows, 'enrollments', (r) => r.enrollment_id),
    payments: [...lastWins(rows, 'payments', (r) => r.payment_id).values()],
    evidence: [...lastWins(rows, 'evidence', (r) => r.evidence_id).values()],
    certs: [...lastWins(rows, 'certifications', (r) => r.certification_id).values()],
    deaths,
    custody
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

function recomputeAlerts(m: Model): { rule: string; id: string; periods: string[]; amount: number }[] {
  const out: { rule: string; id: string; periods: string[]; amount: number }[] = [];
  const paidBy = groupBy(
    m.payments.filter((p) => p.status === 'paid'),
    (p) => p.id_number
  );
  const evBy = groupBy(m.evidence, (e) => e.id_number);
  const enrBy = groupBy([...m.enrollments.values()], (e) => e.id_number);
  const asOfMonth = monthOfDay(m.asOf);
  const cutoff = minusMonths(m.asOf, 12);
  const push = (rule: string, id: string, items: { p: number; a: number }[]) => {
    if (items.length)
      out.push({ rule, id, periods: [...new Set(items.map((i) => periodStr(i.p)))].sort(), amount: items.reduce((s, i) => s + i.a, 0) });
  };
  for (const [id, pays0] of paidBy) {
    const pays = pays0.map((p) => ({ scheme: p.scheme_code, p: parsePeriod(p.period)!, a: fen(p.amount) }));
    const death = m.deaths.get(id);
    if (death !== undefined)
      push(
        'paid_after_death',
        id,
        pays.filter((x) => firstDayOf(x.p) > death)
      );
    const cs = m.custody.get(id) ?? [];
    push(
      'paid_in_custody',
      id,
      pays.filter((x) => EXCL.has(x.scheme) && cs.some((c) => firstDayOf(x.p) >= c.start && (c.end === null || lastDayOf(x.p) <= c.end)))
    );
    const doubles: { p: number; a: number }[] = [];
    for (const [, list] of groupBy(
      pays.filter((x) => EXCL.has(x.scheme)),
      (x) => String(x.p)
    )) {
      if (new Set(list.map((x) => x.scheme)).size >= 2) doubles.push({ p: list[0].p, a: Math.min(...list.map((x) => x.a)) });
    }
    push('double_receipt', id, doubles);
    const abnormal: { p: number; a: number }[] = [];
    for (const [scheme, list] of groupBy(pays, (x) => x.scheme)) {
      const s = list.sort((a, b) => a.p - b.p);
      for (let k = 6; k < s.length; k++) {
        const prev = s
          .slice(k - 6, k)
          .map((x) => x.a)
          .sort((a, b) => a - b);
        const med = (prev[2] + prev[3]) / 2;
        const explained = (enrBy.get(id) ?? []).some(
          (e) => e.scheme_code === scheme && monthOfDay(parseTs(e.updated_at)!) === s[k].p && fen(e.monthly_amount) === s[k].a
        );
        if (Math.abs(s[k].a - med) > 0.2 * med && !explained) abnormal.push({ p: s[k].p, a: s[k].a - med });
      }
    }
    push('abnormal_amount', id, abnormal);
    const birth = parseDate((parseIdNumber(id) as { birthDate: string }).birthDate)!;
    const hundred = minusMonths(m.asOf, 1200) >= birth;
    const strongRecent = (evBy.get(id) ?? []).some(
      (e) => STRONG.has(e.kind) && parseTs(e.occurred_at)! > cutoff && parseTs(e.occurred_at)! <= m.asOf
    );
    if (hundred && death === undefined && !strongRecent && pays.some((x) => x.p === asOfMonth - 1)) {
      push(
        'no_sign_of_life',
        id,
        pays.filter((x) => x.p >= asOfMonth - 12 && x.p <= asOfMonth - 1)
      );
    }
  }
  for (const [id, death] of m.deaths) {
    const after = (evBy.get(id) ?? []).map((e) => parseTs(e.occurred_at)!).filter((d) => d > death);
    if (after.length)
      out.push({ rule: 'post_death_activity', id, periods: [...new Set(after.map((d) => periodStr(monthOfDay(d))))].sort(), amount: 0 });
  }
  return out;
}

function recomputeSharedAccounts(m: Model): { account: string; periods: string[]; amount: number; persons: string[] }[] {
  const pension = m.payments.filter((p) => p.status === 'paid' && EXCL.has(p.scheme_code));
  const byAcc = groupBy(
    m.payments.filter((p) => p.account_no),
    (p) => p.account_no
  );
  const out: { account: string; periods: string[]; amount: number; persons: string[] }[] = [];
  for (const [account, list] of groupBy(
    pension.filter((p) => p.account_no),
    (p) => p.account_no
  )) {
    const flagged = [...groupBy(list, (p) => p.period).entries()]
      .filter(([, l]) => new Set(l.map((p) => p.id_number)).size >= 3)
      .map(([p]) => parsePeriod(p)!);
    if (!flagged.length) continue;
    const all = (byAcc.get(account) ?? []).filter((p) => p.status === 'paid' && flagged.includes(parsePeriod(p.period)!));
    out.push({
      account,
      periods: flagged.map(periodStr).sort(),
      amount: all.reduce((s, p) => s + fen(p.amount), 0),
      persons: [...new Set(all.map((p) => p.id_number))].sort()
    });
  }
  return out;
}

function recomputeCertification(m: Model): Map<string, { status: string; method: string | null; certified_on: string | null }> {
  const out = new Map<string, { status: string; method: string | null; certified_on: string | null }>();
  const cutoff = minusMonths(m.asOf, 12);
  const evBy = groupBy(m.evidence, (e) => e.id_number);
  const certBy = groupBy(m.certs, (c) => c.id_number);
  const recipients = new Set(
    [...m.enrollments.values()].filter((e) => EXCL.has(e.scheme_code) && e.status === 'active').map((e) => e.id_number)
  );
  for (const id of recipients) {
    const cs = m.custody.get(id) ?? [];
    if (m.deaths.has(id) || cs.some((c) => c.end === null || c.end > m.asOf)) {
      out.set(id, { status: 'negative', method: null, certified_on: null });
      continue;
    }
    const after = Math.max(-Infinity, ...cs.map((c) => c.end!));
    const ok = (d: number) => d > cutoff && d <= m.asOf && d > after;
    const ev = (evBy.get(id) ?? [])
      .map((e) => ({ d: parseTs(e.occurred_at)!, strong: STRONG.has(e.kind), source: e.source }))
      .filter((e) => ok(e.d));
    let silent = Math.max(-Infinity, ...ev.filter((e) => e.strong).map((e) => e.d));
    const weak = ev.filter((e) => !e.strong);
    for (const a of weak) for (const b of weak) if (a.source !== b.source && b.d >= a.d && b.d - a.d <= 90) silent = Math.max(silent, a.d);
    let explicit = -Infinity;
    let method: string | null = null;
    for (const c of certBy.get(id) ?? []) {
      const d = parseTs(c.certified_at)!;
      if (c.result === 'pass' && ok(d) && (d > explicit || (d === explicit && c.method < method!))) {
        explicit = d;
        method = c.method;
      }
    }
    if (silent === -Infinity && explicit === -Infinity) out.set(id, { status: 'not_certified', method: null, certified_on: null });
    else if (silent >= explicit) out.set(id, { status: 'certified', method: 'silent', certified_on: isoOf(silent) });
    else out.set(id, { status: 'certified', method, certified_on: isoOf(explicit) });
  }
  return out;
}

// ---- the tests -------------------------------------------------------------------------------------

function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else
        out.set(
          r,
          crypto
            .createHash('sha256')
            .update(fs.readFileSync(path.join(dir, r)))
            .digest('hex')
        );
    }
  };
  walk('');
  return out;
}

// GEN_TEST_SEED / GEN_TEST_AS_OF let a soak loop run the tiny checks over many seeds and dates.
const SEED = Number(process.env.GEN_TEST_SEED ?? 7);
const AS_OF = process.env.GEN_TEST_AS_OF || undefined;

describe('synthetic city generator — tiny scale', () => {
  let base: string;
  let dirA: string;
  let truth: GroundTruth;
  let inbox: Inbox;
  let model: Model;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-gen-'));
    dirA = path.join(base, 'a');
    truth = await generateCity({ scale: 'tiny', seed: SEED, outDir: dirA, asOf: AS_OF });
    const skip = new Set([...truth.ignoredFiles.map((f) => f.file), ...truth.duplicateFiles.map((f) => f.file)]);
    inbox = readInbox(dirA, skip);
    model = buildModel(inbox, truth.asOf);
  }, 120_000);

  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('writes byte-identical output for the same seed, scale and as-of date', async () => {
    const dirB = path.join(base, 'b');
    await generateCity({ scale: 'tiny', seed: SEED, outDir: dirB, asOf: AS_OF });
    const a = hashTree(dirA);
    const b = hashTree(dirB);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, h] of a) expect(b.get(file), file).toBe(h);
    const dirC = path.join(base, 'c');
    await generateCity({ scale: 'tiny', seed: SEED + 1, outDir: dirC, asOf: AS_OF });
    const c = hashTree(dirC);
    expect([...a.keys()].filter((f) => f.startsWith('payments/') && c.get(f) === a.get(f))).toEqual([]);
  }, 120_000);

  it('writes every feed, the ground truth, the GeoJSON and the awkward files', () => {
    for (const feed of FEEDS)
      expect(
        fs.readdirSync(path.join(dirA, feed)).some((f) => f.endsWith('.csv')),
        feed
      ).toBe(true);
    expect(readGroundTruth(dirA)).toEqual(JSON.parse(JSON.stringify(truth)));
    expect(truth.ignoredFiles).toHaveLength(1);
    expect(fs.existsSync(path.join(dirA, truth.ignoredFiles[0].file))).toBe(true);
    expect(truth.unreadableFiles.map((f) => f.reason_kind).sort()).toEqual(['missing_column', 'not_csv', 'unknown_feed']);
    expect(truth.duplicateFiles).toHaveLength(1);
    const geo = JSON.parse(fs.readFileSync(path.join(dirA, '.geo/city.geojson'), 'utf8'));
    const districts = geo.features.filter((f: { properties: { level: string } }) => f.properties.level === 'district');
    const towns = geo.features.filter((f: { properties: { level: string } }) => f.properties.level === 'town');
    expect(districts).toHaveLength(3);
    expect(towns).toHaveLength(6);
    expect(geo.features.filter((f: { properties: { level: string } }) => f.properties.level === 'community')).toHaveLength(18);
    for (const f of geo.features) {
      const ring = f.geometry.coordinates[0] as [number, number][];
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      for (const [x, y] of ring) {
        expect(x).toBeGreaterThan(119.8);
        expect(x).toBeLessThan(120.6);
        expect(y).toBeGreaterThan(29.4);
        expect(y).toBeLessThan(30);
      }
      expect(f.properties.code).toMatch(/^\d{12}$/);
    }
  });

  it('plants at least two alerts for every risk rule', () => {
    for (const rule of [
      'paid_after_death',
      'paid_in_custody',
      'double_receipt',
      'abnormal_amount',
      'shared_account',
      'post_death_activity',
      'no_sign_of_life'
    ]) {
      expect(truth.alerts.filter((a) => a.rule === rule).length, rule).toBeGreaterThanOrEqual(2);
    }
  });

  it('has valid id numbers in persons files except the planted bad rows', () => {
    const bad = new Set(truth.quarantine.filter((q) => q.feed === 'persons').map((q) => `${q.file}:${q.line}`));
    let checked = 0;
    let legacy = 0;
    let lowerX = 0;
    for (const [file, dec] of inbox.decoded) {
      if (!file.startsWith('persons/')) continue;
      const recs = parse(dec.text, { relax_column_count: true, info: true, skip_records_with_error: true } as never) as unknown as {
        record: string[];
        info: { lines: number };
      }[];
      const col = recs[0].record.map((h) => h.trim().toLowerCase()).indexOf('id_number');
      for (const r of recs.slice(1)) {
        if (bad.has(`${file}:${r.info.lines}`)) continue;
        const id = r.record[col];
        if (id.length === 15) legacy++;
        if (id.endsWith('x')) lowerX++;
        expect(parseIdNumber(id).ok, `${file}:${r.info.lines} ${id}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(truth.counts.persons.valid);
    expect(legacy + lowerX).toBeGreaterThan(0);
  });

  it('GB18030 files decode to the Chinese names and are not UTF-8', () => {
    const gb = truth.encodings.filter((e) => e.encoding === 'gb18030').map((e) => e.file);
    expect(gb).toEqual(expect.arrayContaining(['regions/regions.csv', 'deaths/deaths-public_security.csv']));
    expect(gb.some((f) => f.startsWith('persons/'))).toBe(true);
    for (const file of gb) {
      const buf = fs.readFileSync(path.join(dirA, file));
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(buf)).toThrow();
      expect(inbox.decoded.get(file)!.encoding).toBe('gb18030');
    }
    expect(inbox.decoded.get('regions/regions.csv')!.text).toContain('越州市');
    const persons = gb
      .filter((f) => f.startsWith('persons/'))
      .map((f) => inbox.decoded.get(f)!.text)
      .join('\n');
    expect(persons).toMatch(/[\u4e00-\u9fa5]{2,3}/);
    expect(persons).toContain('䶮'); // CJK Extension A: four bytes in GB18030, absent from GBK
    const names = new Set([...model.persons.values()].map((p) => p.name));
    expect(names.has('刘䶮')).toBe(true);
    expect(inbox.decoded.get('persons/persons-330604.csv')!.encoding).toBe('utf8-bom');
  });

  it('an independent re-reading finds exactly the planted quarantine rows and unreadable files', () => {
    const key = (q: { file: string; line: number; reason_kind: string }) => `${q.file}:${q.line}:${q.reason_kind}`;
    expect(inbox.quarantine.map(key).sort()).toEqual(truth.quarantine.map(key).sort());
    const kinds = new Set(truth.quarantine.map((q) => q.reason_kind));
    for (const k of [
      'id_check_char',
      'id_length',
      'id_chars',
      'bad_date',
      'bad_period',
      'bad_money',
      'negative_money',
      'unknown_enum',
      'missing_required',
      'sex_mismatch',
      'birth_date_mismatch',
      'bad_csv'
    ]) {
      expect(kinds.has(k as never), k).toBe(true);
    }
    expect(inbox.unreadable.map((u) => `${u.file}:${u.reason_kind}`).sort()).toEqual(
      truth.unreadableFiles.map((u) => `${u.file}:${u.reason_kind}`).sort()
    );
  });

  it('counts rows, valid rows and natural keys per feed', () => {
    const keyOf: Record<string, (r: Record<string, string>) => string> = {
      regions: (r) => r.code,
      persons: (r) => r.id_number,
      enrollments: (r) => r.enrollment_id,
      payments: (r) => r.payment_id,
      evidence: (r) => r.evidence_id,
      certifications: (r) => r.certification_id,
      deaths: (r) => r.record_id,
      imprisonments: (r) => r.record_id,
      subsidies: (r) => r.payout_id,
      hardship: (r) => `${r.id_number}|${r.kind}|${isoOf(parseDate(r.since)!)}`,
      checkups: (r) => r.checkup_id,
      fund: (r) => `${parsePeriod(r.period)}|${r.scheme_code}`,
      activities: (r) => r.signup_id,
      payroll_draft: (r) => `${r.draft_id}|${r.line_id}`
    };
    const dup = truth.duplicateFiles[0];
    for (const feed of FEEDS) {
      const pf = inbox.perFeed[feed];
      const extra = feed === 'certifications' ? inbox.rows.filter((r) => r.file === dup.same_as).length : 0;
      const extraBad = feed === 'certifications' ? truth.quarantine.filter((q) => q.file === dup.same_as).length : 0;
      expect(pf.rows + extra + extraBad, feed).toBe(truth.counts[feed].rows);
      expect(pf.valid + extra, feed).toBe(truth.counts[feed].valid);
      expect(new Set(inbox.rows.filter((r) => r.feed === feed).map((r) => keyOf[feed](r.r))).size, feed).toBe(truth.counts[feed].keys);
    }
  });

  it('lists the rows whose person arrives late or never, and the corrections', () => {
    const main = new Set(inbox.rows.filter((r) => r.feed === 'persons' && /persons-\d{6}\.csv$/.test(r.file)).map((r) => r.r.id_number));
    const supplement = new Set(inbox.rows.filter((r) => r.file === 'persons/persons-supplement.csv').map((r) => r.r.id_number));
    const keyCol: Record<string, string> = {
      enrollments: 'enrollment_id',
      payments: 'payment_id',
      evidence: 'evidence_id',
      certifications: 'certification_id',
      deaths: 'record_id',
      imprisonments: 'record_id',
      subsidies: 'payout_id',
      checkups: 'checkup_id',
      activities: 'signup_id'
    };
    const found = inbox.rows
      .filter((r) => r.r.id_number && r.feed !== 'persons' && !main.has(r.r.id_number))
      .map(
        (r) =>
          `${r.feed}|${r.feed === 'hardship' ? `${r.r.id_number}|${r.r.kind}|${isoOf(parseDate(r.r.since)!)}` : r.r[keyCol[r.feed]]}|${supplement.has(r.r.id_number) ? 'persons/persons-supplement.csv' : null}`
      );
    expect([...new Set(found)].sort()).toEqual(truth.unknownPersonRows.map((u) => `${u.feed}|${u.key}|${u.resolved_by}`).sort());
    expect(truth.unknownPersonRows.some((u) => u.resolved_by === null)).toBe(true);
    expect(truth.unknownPersonRows.some((u) => u.resolved_by !== null && u.feed === 'payments')).toBe(true);

    const corr = inbox.rows.filter((r) => r.file === 'persons/persons-correction-2.csv');
    expect(corr.length).toBeGreaterThan(0);
    for (const c of truth.corrections) {
      const final = model.persons.get(c.key)!;
      expect(final[c.field], `${c.key}.${c.field}`).toBe(c.final_value);
      const first = inbox.rows.find(
        (r) => r.feed === 'persons' && r.file !== 'persons/persons-correction-2.csv' && r.r.id_number === c.key
      )!;
      expect(first.r[c.field], `${c.key}.${c.field} first delivery`).not.toBe(c.final_value);
    }
  });

  it('recomputing the risk rules from the files gives exactly the planted alerts', () => {
    const fmt = (a: { rule: string; id: string; periods: string[]; amount: number }) =>
      `${a.rule}|${a.id}|${a.periods.join(' ')}|${(a.amount / 100).toFixed(2)}`;
    const got = recomputeAlerts(model).map(fmt).sort();
    const want = truth.alerts
      .filter((a) => a.rule !== 'shared_account')
      .map((a) => `${a.rule}|${a.id_number}|${a.periods.join(' ')}|${a.amount_at_risk}`)
      .sort();
    expect(got).toEqual(want);
    const shared = recomputeSharedAccounts(model)
      .map((s) => `${s.account}|${s.periods.join(' ')}|${(s.amount / 100).toFixed(2)}|${s.persons.join(' ')}`)
      .sort();
    const wantShared = truth.alerts
      .filter((a) => a.rule === 'shared_account')
      .map((a) => `${a.account_no}|${a.periods.join(' ')}|${a.amount_at_risk}|${a.persons!.join(' ')}`)
      .sort();
    expect(shared).toEqual(wantShared);
    // Decoys really are look-alikes that do not fire.
    const alerted = new Set(truth.alerts.flatMap((a) => a.persons ?? [a.id_number]));
    for (const d of truth.decoys) for (const id of d.id_numbers) expect(alerted.has(id), `${d.rule} decoy ${id}`).toBe(false);
  });

  it('withdraws a few death and custody records of living people, each owing exact back pay (issue 21)', () => {
    expect(truth.withdrawals.filter((w) => w.feed === 'deaths').length).toBe(SCALES.tiny.withdrawnDeaths);
    expect(truth.withdrawals.filter((w) => w.feed === 'imprisonments').length).toBe(SCALES.tiny.withdrawnCustody);
    const excl = (scheme: string) => EXCL.has(scheme);
    for (const w of truth.withdrawals) {
      const versions = inbox.rows.filter((r) => r.feed === w.feed && r.r.record_id === w.record_id);
      // delivered valid first, then withdrawn by a file that sorts after it
      expect(versions.map((v) => v.r.status ?? '')).toEqual(['', 'withdrawn']);
      expect(versions[1].file > versions[0].file).toBe(true);
      const from = monthOfDay(parseTs(versions[0].r.recorded_at)!) + 1;
      const to = monthOfDay(parseTs(versions[1].r.recorded_at)!);
      const want: typeof w.restorations = [];
      const enr = [...model.enrollments.values()].filter(
        (e) => e.id_number === w.id_number && (w.feed === 'deaths' || excl(e.scheme_code))
      );
      for (const scheme of [...new Set(enr.map((e) => e.scheme_code))].sort()) {
        const periods: string[] = [];
        let owed = 0;
        for (let m = from; m <= to; m++) {
          const e = enr
            .filter(
              (x) => x.scheme_code === scheme && parsePeriod(x.start_period)! <= m && (!x.end_period || parsePeriod(x.end_period)! >= m)
            )
            .sort((a, b) => parsePeriod(b.start_period)! - parsePeriod(a.start_period)!)[0];
          const paid = model.payments.some(
            (x) => x.id_number === w.id_number && x.scheme_code === scheme && parsePeriod(x.period) === m && x.status === 'paid'
          );
          if (!e || paid) continue;
          periods.push(periodStr(m));
          owed += fen(e.monthly_amount);
        }
        if (periods.length) want.push({ scheme_code: scheme, periods, back_pay: (owed / 100).toFixed(2) });
      }
      expect(want.length, w.record_id).toBeGreaterThan(0);
      expect(w.restorations, w.record_id).toEqual(want);
    }
  });

  it('recomputing certification from the files reproduces the ground truth, silent rate 85–92%', () => {
    const got = recomputeCertification(model);
    expect(got.size).toBe(Object.keys(truth.certification).length);
    for (const [id, c] of got) {
      const t = truth.certification[id];
      expect(t, id).toBeDefined();
      expect({ status: t.status, method: t.method, certified_on: t.certified_on }, id).toEqual(c);
      if (c.certified_on) expect(t.valid_until).toBe(isoOf(minusMonths(parseDate(c.certified_on)!, -12)));
    }
    const values = Object.values(truth.certification);
    const certified = values.filter((v) => v.status === 'certified');
    expect(truth.silentRate).toBeCloseTo(certified.filter((v) => v.method === 'silent').length / certified.length, 10);
    expect(truth.silentRate).toBeGreaterThanOrEqual(0.85);
    expect(truth.silentRate).toBeLessThanOrEqual(0.92);
    expect(values.some((v) => v.status === 'not_certified')).toBe(true);
    expect(values.some((v) => v.status === 'negative')).toBe(true);
    expect(new Set(certified.map((v) => v.method))).toEqual(new Set(['silent', 'face_online', 'field_visit', 'kiosk', 'counter']));
  });

  it('retirement truth follows the 2025 reform table for every insured person', () => {
    const anchors: [string, number, string][] = [
      ['M60', 1965 * 12, '2025-02'],
      ['M60', 1965 * 12 + 4, '2025-07'],
      ['F50', 1975 * 12, '2025-02'],
      ['F50', 1975 * 12 + 2, '2025-05'],
      ['M60', 1980 * 12 + 5, '2043-06']
    ];
    for (const [basis, bm, expected] of anchors) expect(periodStr(retirementMonth(basis as 'M60', bm))).toBe(expected);
    expect(statutoryAgeMonths('F55', 1981 * 12 + 8)).toBe(58 * 12);
    expect(statutoryAgeMonths('F50', 1984 * 12 + 10)).toBe(55 * 12);
    const insured = [...model.persons.values()].filter((p) => p.status === 'insured');
    expect(insured.length).toBe(Object.keys(truth.retirement).length);
    let due = 0;
    for (const p of insured) {
      const t = truth.retirement[p.id_number];
      const id = parseIdNumber(p.id_number) as { birthDate: string };
      const bm = Number(id.birthDate.slice(0, 4)) * 12 + Number(id.birthDate.slice(5, 7)) - 1;
      const rule = { M60: [720, 1965, 4, 36], F55: [660, 1970, 4, 36], F50: [600, 1975, 2, 60] }[p.retirement_basis as 'M60']!;
      const d = bm - rule[1] * 12;
      const age = rule[0] + (d < 0 ? 0 : Math.min(rule[3], Math.floor(d / rule[2]) + 1));
      expect(t, p.id_number).toEqual(
        expect.objectContaining({
          basis: p.retirement_basis,
          birth_month: periodStr(bm),
          statutory_age_months: age,
          retirement_month: periodStr(bm + age)
        })
      );
      if (t.reminder_due) due++;
    }
    expect(due).toBeGreaterThan(0);
  });

  it('fund expenditure equals the paid payments of each scheme and month', () => {
    const paid = new Map<string, number>();
    for (const p of model.payments)
      if (p.status === 'paid')
        paid.set(`${p.scheme_code}|${parsePeriod(p.period)}`, (paid.get(`${p.scheme_code}|${parsePeriod(p.period)}`) ?? 0) + fen(p.amount));
    const fund = inbox.rows.filter((r) => r.feed === 'fund');
    expect(fund.length).toBe(7 * 24);
    expect(new Set(fund.map((f) => f.r.period)).size).toBe(24);
    for (const f of fund)
      expect(fen(f.r.expenditure), `${f.r.scheme_code} ${f.r.period}`).toBe(paid.get(`${f.r.scheme_code}|${parsePeriod(f.r.period)}`) ?? 0);
  });
});

describe('synthetic city generator — demo scale', () => {
  it('generates quickly (target well under 30 s) with the expected silent rate and planted cases', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-demo-'));
    try {
      const t0 = performance.now();
      const truth = await generateCity({ scale: 'demo', seed: 1, outDir: dir });
      const seconds = (performance.now() - t0) / 1000;
      // Measured ~5 s on an idle 2-CPU machine; the bound only guards against a regression under load.
      expect(seconds).toBeLessThan(60);
      expect(truth.population.recipients_generated).toBe(20_000);
      expect(truth.silentRate).toBeGreaterThanOrEqual(0.85);
      expect(truth.silentRate).toBeLessThanOrEqual(0.92);
      for (const rule of [
        'paid_after_death',
        'paid_in_custody',
        'double_receipt',
        'abnormal_amount',
        'post_death_activity',
        'no_sign_of_life'
      ]) {
        expect(truth.alerts.filter((a) => a.rule === rule).length, rule).toBeGreaterThanOrEqual(5);
      }
      expect(Object.keys(truth.retirement).length).toBe(SCALES.demo.insured);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
