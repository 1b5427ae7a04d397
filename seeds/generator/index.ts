/**
 * The deterministic synthetic city (越州市): writes a complete department-feed inbox per
 * docs/feeds.md, with planted risk cases, bad rows and awkward files, plus the ground truth a test
 * can assert against. Same seed + scale + asOf ⇒ byte-identical output (seeded sfc32, no clock).
 *
 * Output under `outDir`:
 *   <feed>/<name>.csv          the inbox (see FILES below and the README of the ingestion engineer)
 *   .ground-truth.json         the expected results (dot-file: not a feed)
 *   .geo/city.geojson          district, town and community polygons {code, name, level, parent_code}
 *
 * Ground truth (`.ground-truth.json`), one top-level key per line:
 *   asOf, seed, scale
 *   window        { first_period, last_period, evidence_from, cutoff }  payment months and the
 *                 12-month cutoff (= asOf minus 12 calendar months)
 *   counts        { <feed>: { rows, valid, quarantined, keys }, files: { total, csv, loadable,
 *                 unreadable, ignored_part, duplicates } }
 *                 rows = data rows in the feed's readable files (header excluded, a multi-line
 *                 quoted row counts once, rows of unreadable files excluded); valid = rows that
 *                 must load; keys = distinct natural keys after loading (valid minus re-delivered
 *                 duplicates and corrections).
 *   quarantine    [{ feed, file, line, reason_kind, note }]  file = path relative to the inbox,
 *                 line = 1-based physical line where the row starts (header = line 1).
 *                 reason_kind ∈ id_check_char id_length id_chars bad_date bad_period bad_money
 *                 negative_money unknown_enum missing_required sex_mismatch birth_date_mismatch
 *                 out_of_range bad_csv
 *   unreadableFiles [{ feed, file, reason_kind: not_csv | missing_column | unknown_feed }]
 *   ignoredFiles  [{ file }]  `.csv.part` files that must never be read
 *   duplicateFiles [{ feed, file, same_as }]  byte-identical re-deliveries
 *   extraColumns  [{ feed, file, columns }]   unknown columns to ignore and report
 *   encodings     [{ file, encoding: utf8 | utf8-bom | gb18030, eol }]  every written .csv
 *   alerts        [{ rule, id_number, periods: ['YYYY-MM'], amount_at_risk: '1234.56' }]
 *                 one entry per (rule, person), periods sorted, amount = sum over the periods;
 *                 shared_account: one entry per (account, episode) with id_number = the
 *                 smallest member id, plus account_no and persons (all member ids).
 *   decoys        [{ rule, id_numbers, why }]  look-alikes that must NOT raise that rule
 *   certification { [id_number]: { status, method, certified_on, valid_until } } for every
 *                 recipient = person with an `active` ENT/INS/RES/LLF enrollment at asOf
 *                 (suspended people are not recipients). not_certified/negative ⇒ nulls.
 *   silentRate    certified by `silent` / certified (recipients)
 *   certificationEdgeCases [{ id_number, case }]  e.g. same-day explicit pass and strong evidence
 *   retirement    { [id_number]: { basis, birth_month, statutory_age_months, retirement_month,
 *                 reminder_due } } for every insured person (reminder_due: 1–11 months ahead)
 *   policy        { eligibleNotReceiving: [{ project, id_number }], receivingNotEligible: [...] }
 *                 AGE80, HARD, DIS only; population = living recipients; "receiving" = a payout
 *                 of the project for the last payment month; eligibility judged at asOf.
 *   corrections   [{ feed, key, field, final_value }]
 *   withdrawals   [{ feed, record_id, id_number, withdrawn_at, restorations: [{ scheme_code, periods:
 *                 ['YYYY-MM'], back_pay: '1234.56' }] }]  death and custody records of living people,
 *                 delivered valid and withdrawn by a later file (withdrawn-deaths.csv,
 *                 withdrawn-imprisonments.csv); their payments stop from the month after the record
 *                 arrived to the month of the withdrawal, so each scheme concerned is owed back pay =
 *                 its enrollment's monthly amount per unpaid period. Certification and alerts treat
 *                 these people as if the record had never existed (withdrawn before asOf).
 *   unknownPersonRows [{ feed, key, id_number, resolved_by }]  rows whose person is not in the
 *                 main persons files: resolved_by = the persons file that later delivers the
 *                 person, or null when the person is never delivered (row stays pending).
 *   payroll       the payroll draft of the as-of month (payroll_draft/payroll-draft-YYYY-MM.csv) and what the
 *                 pre-payroll check as of asOf must find in it: { period, draft_id, prepared_at, lines, people,
 *                 amount, findings: [{ line_id, id_number, scheme_code, amount, finding, amount_at_risk, held }]
 *                 (exactly these), planted: { <finding>: [id_number] }, held_lines, held_amount, diff:
 *                 { new_payee, amount_changed, dropped_payee_count } } (seeds/generator/payroll.ts)
 *   population    summary numbers
 *
 * Boundary choices (the rules leave them open; planted and clean data keep ≥ 3 days away from
 * every one of them, and the generator verifies that a strict and a lenient reading agree):
 *   - "within the last 12 months" = date > asOf − 12 calendar months, and ≤ asOf; no evidence,
 *     certification or record is dated after asOf − 3 days.
 *   - weak corroboration "within 90 days" = |d1 − d2| ≤ 90; generated gaps avoid 88–92 being decisive.
 *   - valid_until = certified_on + 12 calendar months (clamped to month end).
 *   - paid_after_death: deaths never fall on the 1st/2nd or after the 28th of a month.
 *   - custody start/end days fall on the 5th–25th, so "period fully inside" is unambiguous.
 *   - no_sign_of_life "last 12 months' payments" = paid payments for the 12 periods before the
 *     as-of month; payments are paid on the 16th–28th, so with asOf on or before the 15th the
 *     paid_at reading gives the same set.
 *   - abnormal_amount: median of the previous 6 paid periods; planted spikes sit in July–December
 *     so all 6 previous periods carry the same amount; clean month-to-month changes are ≤ 5%.
 *   - ages: nobody turns 70, 80 or 100 during the as-of month.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeIdNumber } from '../../core/domain/id-number.ts';
import { BAD_ROWS, phantomFactory, resetBadRowKeys, type BadRowContext, type QuarantineTruth, type ReasonKind } from './bad-rows.ts';
import {
  addMonths,
  ageOn,
  day,
  dayInMonth,
  firstDay,
  fmtDay,
  fmtDayCompact,
  fmtDaySlash,
  fmtMonth,
  fmtMonthCompact,
  fmtTs,
  monthOf,
  parts,
  yearOfMonth,
  type Day,
  type Month
} from './calendar.ts';
import { CsvFile, TextSink, csvField, type Encoding } from './csv-writer.ts';
import { RARE_NAMES } from './names.ts';
import { PersonBuilder, isActiveRecipient, type Person, type World } from './person.ts';
import { RULES, RULE_OF_ROLE, SCALES, makePlan, type Scale } from './plan.ts';
import { buildRegions, regionRows } from './regions.ts';
import { cityGeoJson } from './shapes.ts';
import { retirementTruth, type RetirementTruth } from './retirement.ts';
import { Rng } from './rng.ts';
import { EXCLUSIVE, LENIENT, NOMINAL, STRICT, certify, riskHits, type CertMethod, type RiskFacts, type RuleHit } from './truth.ts';
import { PAYROLL_COLUMNS, PayrollDraft, type PayrollTruth } from './payroll.ts';
import { DEFAULT_RULES } from '../../core/reference/rules.ts';

export { SCALES, type Scale } from './plan.ts';

export interface GenerateOptions {
  scale: Scale;
  seed: number;
  outDir: string;
  /** YYYY-MM-DD, default 2026-11-15. */
  asOf?: string;
  /**
   * Remove every .csv/.csv.part already in outDir's feed folders first. Without it, files of an
   * earlier generator run (listed in its .ground-truth.json) are replaced and any other feed file
   * makes generation fail, so real department files are never deleted by accident.
   */
  clean?: boolean;
}

export const DEFAULT_AS_OF = '2026-11-15';

export const FEEDS = [
  'regions',
  'persons',
  'enrollments',
  'payments',
  'evidence',
  'certifications',
  'deaths',
  'imprisonments',
  'subsidies',
  'hardship',
  'checkups',
  'fund',
  'activities',
  'payroll_draft'
] as const;
export type Feed = (typeof FEEDS)[number];

export interface FeedCount {
  rows: number;
  valid: number;
  quarantined: number;
  keys: number;
}
export interface FileCounts {
  total: number;
  csv: number;
  loadable: number;
  unreadable: number;
  ignored_part: number;
  duplicates: number;
}
export interface AlertTruth {
  rule: string;
  id_number: string;
  periods: string[];
  amount_at_risk: string;
  account_no?: string;
  persons?: string[];
}
export interface CertTruth {
  status: 'certified' | 'not_certified' | 'negative';
  method: CertMethod | null;
  certified_on: string | null;
  valid_until: string | null;
}

export interface GroundTruth {
  asOf: string;
  seed: number;
  scale: Scale;
  window: { first_period: string; last_period: string; evidence_from: string; cutoff: string };
  counts: { [K in Feed]: FeedCount } & { files: FileCounts };
  quarantine: QuarantineTruth[];
  unreadableFiles: { feed: string; file: string; reason_kind: 'not_csv' | 'missing_column' | 'unknown_feed' }[];
  ignoredFiles: { file: string }[];
  duplicateFiles: { feed: string; file: string; same_as: string }[];
  extraColumns: { feed: string; file: string; columns: string[] }[];
  encodings: { file: string; encoding: Encoding; eol: 'LF' | 'CRLF' }[];
  alerts: AlertTruth[];
  decoys: { rule: string; id_numbers: string[]; why: string }[];
  certification: Record<string, CertTruth>;
  silentRate: number;
  certificationEdgeCases: { id_number: string; case: string }[];
  retirement: Record<string, RetirementTruth>;
  policy: {
    eligibleNotReceiving: { project: string; id_number: string }[];
    receivingNotEligible: { project: string; id_number: string }[];
  };
  corrections: { feed: string; key: string; field: string; final_value: string }[];
  withdrawals: {
    feed: 'deaths' | 'imprisonments';
    record_id: string;
    id_number: string;
    withdrawn_at: string;
    restorations: { scheme_code: string; periods: string[]; back_pay: string }[];
  }[];
  unknownPersonRows: { feed: string; key: string; id_number: string; resolved_by: string | null }[];
  /** The payroll draft of the as-of month and what the pre-payroll check must find in it (seeds/generator/payroll.ts). */
  payroll: PayrollTruth;
  population: {
    recipients_generated: number;
    insured: number;
    recipients_active: number;
    certified: number;
    certified_silent: number;
    not_certified: number;
    negative: number;
    deaths: number;
    imprisonments: number;
    suspended: number;
    late_persons: number;
  };
}

// ---- formatting -------------------------------------------------------------------------------

function money(fen: number, trim = false): string {
  const s = `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  if (!trim) return s;
  return s.replace(/\.?0+$/, '');
}

interface Style {
  date: 'iso' | 'slash' | 'compact';
  period: 'iso' | 'compact';
  money: 'fixed' | 'trim';
  ts: 'local' | 'offset' | 'mixed';
  multiline?: boolean;
  extra?: string;
}

class FeedFile extends CsvFile {
  style: Style;
  encodingName: Encoding;
  eolName: 'LF' | 'CRLF';
  bad: { spec: (typeof BAD_ROWS)[number] }[] = [];
  badWritten = 0;
  private emitting = false;
  tsCount = 0;

  constructor(
    root: string,
    rel: string,
    feed: string,
    columns: readonly string[],
    style: Partial<Style> = {},
    opts: { encoding?: Encoding; eol?: '\n' | '\r\n'; headerText?: string } = {}
  ) {
    super(root, rel, feed, columns, opts);
    this.style = { date: 'iso', period: 'iso', money: 'fixed', ts: 'local', ...style };
    this.encodingName = opts.encoding ?? 'utf8';
    this.eolName = opts.eol === '\r\n' ? 'CRLF' : 'LF';
  }
  d(x: Day | null | undefined): string {
    if (x === null || x === undefined) return '';
    return this.style.date === 'slash' ? fmtDaySlash(x) : this.style.date === 'compact' ? fmtDayCompact(x) : fmtDay(x);
  }
  p(m: Month): string {
    return this.style.period === 'compact' ? fmtMonthCompact(m) : fmtMonth(m);
  }
  m(fen: number): string {
    return money(fen, this.style.money === 'trim');
  }
  t(x: Day | null, sec: number): string {
    if (x === null) return '';
    if (this.style.ts === 'mixed') return fmtTs(x, sec, ++this.tsCount % 3 === 0 ? 'utc' : this.tsCount % 3 === 1 ? 'local' : 'offset');
    return fmtTs(x, sec, this.style.ts);
  }
  /** Emit due bad rows (guarded: writing one triggers the hook again). */
  sortBad(): void {
    this.bad.sort((a, b) => Number(a.spec.last ?? false) - Number(b.spec.last ?? false) || a.spec.after - b.spec.after);
  }
  maybeBad(ctx: BadRowContext, truth: QuarantineTruth[], ready: boolean, final = false): void {
    if (this.emitting || !ready || !this.bad.length) return;
    if (!final && (this.bad[0].spec.last || this.rows - this.badWritten < this.bad[0].spec.after)) return;
    this.emitting = true;
    try {
      const good = () => this.rows - this.badWritten;
      while (this.bad.length && (final || (!this.bad[0].spec.last && good() >= this.bad[0].spec.after))) {
        const { spec } = this.bad.shift()!;
        const text = spec.build(ctx, this);
        this.badWritten++;
        const lineNo = this.raw(text, { noEol: spec.last });
        truth.push({ feed: spec.feed, file: this.rel, line: lineNo, reason_kind: spec.reason as ReasonKind, note: spec.note });
      }
    } finally {
      this.emitting = false;
    }
  }
}

const COLS = {
  regions: ['code', 'name', 'level', 'parent_code'],
  persons: [
    'id_number',
    'name',
    'sex',
    'birth_date',
    'phone',
    'hukou_region',
    'residence_region',
    'residence_outside',
    'status',
    'retirement_basis',
    'retired_on',
    'updated_at'
  ],
  enrollments: [
    'enrollment_id',
    'id_number',
    'scheme_code',
    'status',
    'monthly_amount',
    'start_period',
    'end_period',
    'account_no',
    'suspended_reason',
    'updated_at'
  ],
  payments: ['payment_id', 'id_number', 'scheme_code', 'period', 'amount', 'paid_at', 'status', 'account_no'],
  evidence: ['evidence_id', 'id_number', 'source', 'kind', 'occurred_at', 'region', 'detail'],
  certifications: ['certification_id', 'id_number', 'method', 'certified_at', 'result', 'operator'],
  deaths: ['record_id', 'id_number', 'death_date', 'source', 'recorded_at'],
  imprisonments: ['record_id', 'id_number', 'start_date', 'end_date', 'source', 'recorded_at'],
  subsidies: ['payout_id', 'id_number', 'project_code', 'period', 'amount', 'paid_at'],
  hardship: ['id_number', 'kind', 'level', 'since', 'until'],
  checkups: ['checkup_id', 'id_number', 'hospital', 'booked_for', 'attended_at', 'result'],
  fund: ['period', 'scheme_code', 'income', 'expenditure', 'balance'],
  activities: ['signup_id', 'id_number', 'activity_code', 'kind', 'signed_up_at', 'attended_at', 'satisfaction'],
  payroll_draft: PAYROLL_COLUMNS
} as const;

// ---- the generator --------------------------------------------------------------------------

export async function generateCity(opts: GenerateOptions): Promise<GroundTruth> {
  const cfg = SCALES[opts.scale];
  if (!cfg) throw new Error(`unknown scale "${opts.scale}" (${Object.keys(SCALES).join(', ')})`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new Error(`seed must be a non-negative integer, got ${opts.seed}`);
  const asOfIso = opts.asOf ?? DEFAULT_AS_OF;
  const asOf = day(asOfIso);
  if (fmtDay(asOf) !== asOfIso) throw new Error(`asOf is not a real date: ${asOfIso}`);
  const root = path.resolve(opts.outDir);
  prepareOutDir(root, opts.clean ?? false);
  resetBadRowKeys();

  const asOfMonth = monthOf(asOf);
  const lastMonth = asOfMonth - 1;
  const firstMonth = lastMonth - cfg.months + 1;
  const tree = buildRegions(opts.seed, cfg);
  const plan = makePlan(opts.seed, cfg, firstMonth, lastMonth);
  const world: World = {
    seed: opts.seed,
    scale: opts.scale,
    cfg,
    asOf,
    asOfMonth,
    firstMonth,
    lastMonth,
    evStart: addMonths(asOf, -24),
    cutoff: addMonths(asOf, -12),
    tree,
    plan,
    usedIds: new Set(),
    counters: { enr: 0 }
  };

  const all: FeedFile[] = [];
  const open = (
    rel: string,
    feed: Feed,
    columns: readonly string[],
    style: Partial<Style> = {},
    o: { encoding?: Encoding; eol?: '\n' | '\r\n'; headerText?: string } = {}
  ) => {
    const f = new FeedFile(root, rel, feed, columns, style, o);
    all.push(f);
    return f;
  };

  // Regions first (GB18030, CRLF: a typical government export).
  const regionsFile = open('regions/regions.csv', 'regions', COLS.regions, {}, { encoding: 'gb18030', eol: '\r\n' });
  // Persons: one file per district with varying encodings, date formats and header styles.
  const personsFiles = tree.districts.map((d, k) => {
    const variant = k % 4;
    if (variant === 0) {
      const cols = [
        'name',
        'id_number',
        'sex',
        'birth_date',
        'hukou_region',
        'residence_region',
        'residence_outside',
        'phone',
        'status',
        'retirement_basis',
        'retired_on',
        'updated_at'
      ];
      return open(
        `persons/persons-${d.code6}.csv`,
        'persons',
        cols,
        {},
        {
          headerText:
            ' Name ,ID_Number, Sex ,Birth_Date,HUKOU_REGION,residence_region,residence_outside,Phone,STATUS,retirement_basis,retired_on,updated_at'
        }
      );
    }
    if (variant === 1) return open(`persons/persons-${d.code6}.csv`, 'persons', COLS.persons, {}, { encoding: 'gb18030', eol: '\r\n' });
    if (variant === 2)
      return open(`persons/persons-${d.code6}.csv`, 'persons', COLS.persons, { date: 'slash', ts: 'offset' }, { encoding: 'utf8-bom' });
    return open(`persons/persons-${d.code6}.csv`, 'persons', COLS.persons, { date: 'compact' }, { encoding: 'gb18030' });
  });
  const supplementFile = open('persons/persons-supplement.csv', 'persons', COLS.persons);
  const enrollFiles = [
    open('enrollments/enrollments-pension.csv', 'enrollments', COLS.enrollments),
    open('enrollments/enrollments-allowance.csv', 'enrollments', COLS.enrollments, { money: 'trim' })
  ];
  const payFiles = new Map<number, FeedFile>();
  for (let y = yearOfMonth(firstMonth); y <= yearOfMonth(lastMonth); y++) {
    const firstYear = y === yearOfMonth(firstMonth);
    payFiles.set(
      y,
      open(
        `payments/payments-${y}.csv`,
        'payments',
        COLS.payments,
        firstYear ? { period: 'compact', money: 'trim', ts: 'local' } : { ts: 'offset' }
      )
    );
  }
  const evFiles = new Map<number, FeedFile>();
  {
    const q0 = (d: Day) => parts(d).y * 4 + Math.floor((parts(d).m - 1) / 3);
    for (let q = q0(world.evStart); q <= q0(asOf); q++) {
      const idx = q - q0(world.evStart);
      const name = `evidence/evidence-${Math.floor(q / 4)}Q${(q % 4) + 1}.csv`;
      const style: Partial<Style> = { ts: idx === 0 ? 'mixed' : idx % 2 ? 'offset' : 'local', multiline: idx === 1 };
      if (idx === 2) evFiles.set(q, open(name, 'evidence', [...COLS.evidence, 'batch_no'], { ...style, extra: 'batch_no' }));
      else evFiles.set(q, open(name, 'evidence', COLS.evidence, style));
    }
  }
  const certFiles = new Map<number, FeedFile>();
  for (let y = parts(world.evStart).y; y <= parts(asOf).y; y++)
    certFiles.set(y, open(`certifications/certifications-${y}.csv`, 'certifications', COLS.certifications));
  const deathFiles = new Map<string, FeedFile>([
    [
      'public_security',
      open('deaths/deaths-public_security.csv', 'deaths', [...COLS.deaths, 'name'], { extra: 'name' }, { encoding: 'gb18030', eol: '\r\n' })
    ],
    ['health', open('deaths/deaths-health.csv', 'deaths', COLS.deaths)],
    ['civil_affairs', open('deaths/deaths-civil_affairs.csv', 'deaths', COLS.deaths, { date: 'compact' })],
    ['court', open('deaths/deaths-court.csv', 'deaths', COLS.deaths)]
  ]);
  const custodyFile = open('imprisonments/imprisonments.csv', 'imprisonments', COLS.imprisonments);
  const subsidyFiles = new Map<number, FeedFile>();
  for (let y = yearOfMonth(firstMonth); y <= yearOfMonth(lastMonth); y++)
    subsidyFiles.set(y, open(`subsidies/subsidies-${y}.csv`, 'subsidies', COLS.subsidies));
  const hardshipFiles = [
    open('hardship/hardship-civil_affairs.csv', 'hardship', COLS.hardship),
    open('hardship/hardship-disability_federation.csv', 'hardship', COLS.hardship, { date: 'slash' })
  ];
  const checkupFile = open('checkups/checkups.csv', 'checkups', COLS.checkups);
  const activityFile = open('activities/activities.csv', 'activities', COLS.activities);
  const fundFile = open('fund/fund-ledger.csv', 'fund', COLS.fund);
  const correctionFile = open('persons/persons-correction-2.csv', 'persons', COLS.persons);
  // Withdrawals: the same record_id again with status withdrawn, in files that sort (and are written) after the others.
  const withdrawnDeathFile = open('deaths/withdrawn-deaths.csv', 'deaths', [...COLS.deaths, 'status']);
  const withdrawnCustodyFile = open('imprisonments/withdrawn-imprisonments.csv', 'imprisonments', [...COLS.imprisonments, 'status']);
  // The payroll system's draft for the month after the data window (the as-of month), with planted problems.
  const payrollFile = open(`payroll_draft/payroll-draft-${fmtMonth(asOfMonth)}.csv`, 'payroll_draft', COLS.payroll_draft);
  const payrollDraft = new PayrollDraft(world, payrollFile);

  // ---- bad rows ----
  const quarantine: QuarantineTruth[] = [];
  const mainFiles: Record<string, FeedFile[]> = {
    regions: [regionsFile],
    persons: personsFiles,
    enrollments: enrollFiles,
    payments: [...payFiles.values()],
    evidence: [...evFiles.values()],
    certifications: [...certFiles.values()],
    deaths: [...deathFiles.values()],
    imprisonments: [custodyFile],
    subsidies: [...subsidyFiles.values()],
    hardship: hardshipFiles,
    checkups: [checkupFile],
    fund: [fundFile],
    activities: [activityFile]
  };
  for (const spec of BAD_ROWS) {
    const files = mainFiles[spec.feed];
    const f = files[((spec.fileIndex % files.length) + files.length) % files.length];
    f.bad.push({ spec });
  }
  for (const f of all) f.sortBad();
  const reservoir: Person[] = [];
  const badRng = new Rng(opts.seed, 'bad-rows');
  const phantom = phantomFactory(badRng);
  const ctx: BadRowContext = {
    ref: () => reservoir[badRng.int(0, reservoir.length - 1)],
    phantom,
    communityCode: () => tree.communities[badRng.int(0, tree.communities.length - 1)].code,
    rng: badRng
  };
  const needsRef = (f: FeedFile) => !['regions', 'fund', 'persons'].includes(f.feed);
  for (const f of all) f.afterRow = () => f.maybeBad(ctx, quarantine, !needsRef(f) || reservoir.length > 0);

  // ---- regions and GeoJSON ----
  for (const r of regionRows(tree)) regionsFile.row([r.code, r.name, r.level, r.parent]);
  regionsFile.maybeBad(ctx, quarantine, true, true);
  fs.mkdirSync(path.join(root, '.geo'), { recursive: true });
  fs.writeFileSync(path.join(root, '.geo', 'city.geojson'), cityGeoJson(opts.seed, tree));

  // ---- ground-truth accumulators ----
  const alerts: AlertTruth[] = [];
  const decoys: GroundTruth['decoys'] = [];
  const certification: Record<string, CertTruth> = {};
  const edgeCases: GroundTruth['certificationEdgeCases'] = [];
  const retirement: Record<string, RetirementTruth> = {};
  const policy: GroundTruth['policy'] = { eligibleNotReceiving: [], receivingNotEligible: [] };
  const corrections: GroundTruth['corrections'] = [];
  const withdrawals: GroundTruth['withdrawals'] = [];
  const withdrawing = new Withdrawals(cfg.withdrawnDeaths, cfg.withdrawnCustody, cfg.recipients, firstMonth, lastMonth);
  const unknownPersonRows: GroundTruth['unknownPersonRows'] = [];
  const pop = {
    recipients_generated: cfg.recipients,
    insured: cfg.insured,
    recipients_active: 0,
    certified: 0,
    certified_silent: 0,
    not_certified: 0,
    negative: 0,
    deaths: 0,
    imprisonments: 0,
    suspended: 0,
    late_persons: 0
  };
  const fund = new Map<string, number[]>();
  const groupMembers = new Map<number, Person[]>();
  const couples = new Map<number, { id: string; account: string }[]>();
  let rareNameIdx = 0;

  const writer = new RowWriter(
    world,
    {
      personsFiles,
      supplementFile,
      correctionFile,
      enrollFiles,
      payFiles,
      evFiles,
      certFiles,
      deathFiles,
      custodyFile,
      subsidyFiles,
      hardshipFiles,
      checkupFile,
      activityFile
    },
    fund,
    unknownPersonRows,
    corrections
  );

  // ---- the person pass: build, check, record truth, write ----
  const total = cfg.recipients + cfg.insured;
  for (let idx = 0; idx < total; idx++) {
    const p = new PersonBuilder(world, idx).build();
    const role = p.role;
    // A few GB18030-only characters in a GB18030 persons file (districts with k % 4 in {1, 3}).
    if (
      !role &&
      p.recipient &&
      rareNameIdx < RARE_NAMES.length &&
      p.hukou.district.index % 4 === 1 &&
      p.sex === RARE_NAMES[rareNameIdx].sex
    ) {
      p.name = RARE_NAMES[rareNameIdx++].name;
    }
    const withdrawn = withdrawing.plant(p);
    if (p.recipient) {
      recordTruth(p);
      payrollDraft.consider(p);
    } else {
      retirement[p.id] = retirementTruth(p.basis, monthOf(p.birth), asOfMonth);
    }
    writer.write(p);
    if (withdrawn) {
      const recordId = 'RW' + String(withdrawals.length + 1).padStart(8, '0');
      const valid = fmtTs(withdrawn.arrived, 36000);
      const gone = fmtTs(withdrawn.withdrawn, 36000);
      if (withdrawn.feed === 'deaths') {
        const health = writer.deathFile('health');
        health.row([recordId, p.id, health.d(withdrawn.event), 'health', valid]);
        withdrawnDeathFile.row([recordId, p.id, withdrawnDeathFile.d(withdrawn.event), 'health', gone, 'withdrawn']);
      } else {
        writer.custody([recordId, p.id, fmtDay(withdrawn.event), '', 'public_security', valid]);
        withdrawnCustodyFile.row([recordId, p.id, fmtDay(withdrawn.event), '', 'public_security', gone, 'withdrawn']);
      }
      withdrawals.push({
        feed: withdrawn.feed,
        record_id: recordId,
        id_number: p.id,
        withdrawn_at: gone,
        restorations: withdrawn.restorations
      });
    }
    if (!role && p.recipient && !p.death && isActiveRecipient(p)) {
      reservoir.push(p);
      if (reservoir.length > 64) reservoir.shift();
    }
    if (idx % 64 === 0) for (const f of all) f.maybeBad(ctx, quarantine, !needsRef(f) || reservoir.length > 0);
  }

  function recordTruth(p: Person): void {
    const facts: RiskFacts = {
      birth: p.birth,
      deathDay: p.death?.day ?? null,
      custody: p.custody.map((c) => ({ start: c.start, end: c.end })),
      payments: p.payments.map((x) => ({ period: x.period, scheme: x.scheme, fen: x.fen, status: x.status })),
      evidence: p.evidence,
      enrollments: p.enrollments.map((e) => ({
        scheme: e.scheme,
        updatedMonth: monthOf(e.updated),
        fen: e.currentFen ?? e.yearFen.get(yearOfMonth(Math.min(e.end ?? lastMonth, lastMonth)))!
      }))
    };
    const nominal = riskHits(facts, asOf, NOMINAL);
    // Only the 12-month cutoff (no_sign_of_life) depends on the reading; check it where it matters.
    if (ageOn(p.birth, asOf) >= 100 && JSON.stringify(riskHits(facts, asOf, STRICT)) !== JSON.stringify(riskHits(facts, asOf, LENIENT))) {
      throw new Error(`generator bug: person ${p.idx} risk hits depend on the boundary reading`);
    }
    const role = p.role;
    const expected = role && role.kind in RULE_OF_ROLE && role.kind !== 'SA' ? RULE_OF_ROLE[role.kind as keyof typeof RULE_OF_ROLE] : null;
    const got = nominal.map((h) => h.rule);
    if ((expected === null && got.length) || (expected !== null && (got.length !== 1 || got[0] !== expected))) {
      throw new Error(
        `generator bug: person ${p.idx} (${role?.kind ?? 'clean'}) triggers [${got.join(', ')}], expected [${expected ?? ''}]`
      );
    }
    for (const h of nominal) alerts.push(alertOf(h, p.id));

    if (p.death) pop.deaths++;
    if (p.custody.length) pop.imprisonments++;
    if (p.enrollments.some((e) => e.status === 'suspended')) pop.suspended++;
    if (role?.kind === 'LATE') pop.late_persons++;
    if (role?.kind === 'SA') {
      const list = groupMembers.get(role.group) ?? [];
      list.push(p);
      groupMembers.set(role.group, list);
    }
    if (role?.kind === 'COUPLE') {
      const pair = Math.min(p.idx, role.partner);
      couples.set(pair, [...(couples.get(pair) ?? []), { id: p.id, account: p.enrollments[0].account }]);
    }
    if (role?.kind === 'AA_EXPLAINED')
      decoys.push({
        rule: 'abnormal_amount',
        id_numbers: [p.id],
        why: `last payment +30% with the enrollment updated that month to the new amount`
      });
    if (p.enrollments.length > 1 && p.enrollments[0].scheme === 'RES' && p.enrollments[0].status === 'terminated' && !role) {
      if (decoys.filter((d) => d.rule === 'double_receipt').length < 5)
        decoys.push({ rule: 'double_receipt', id_numbers: [p.id], why: 'switched from RES to ENT without overlapping months' });
    }
    if (!role && p.death && p.death.records.every((r) => monthOf(r.recorded) > monthOf(p.death!.day) + 1)) {
      if (decoys.filter((d) => d.rule === 'paid_after_death').length < 5)
        decoys.push({
          rule: 'paid_after_death',
          id_numbers: [p.id],
          why: 'death recorded late but payments stopped after the death month'
        });
    }
    if (!role && p.custody.length && p.custody[0].end !== null && p.custody[0].end <= asOf) {
      if (decoys.filter((d) => d.rule === 'paid_in_custody').length < 5)
        decoys.push({
          rule: 'paid_in_custody',
          id_numbers: [p.id],
          why: 'released; pension suspended only for periods fully inside custody'
        });
    }

    if (isActiveRecipient(p)) {
      pop.recipients_active++;
      const c = certify(
        {
          evidence: p.evidence,
          explicit: p.certs.map((x) => ({ day: x.day, method: x.method, pass: x.pass })),
          deathDay: p.death?.day ?? null,
          ongoingCustody: p.custody.some((x) => x.end === null || x.end > asOf),
          pastCustodyEnds: p.custody.filter((x) => x.end !== null && x.end <= asOf).map((x) => x.end!)
        },
        asOf,
        NOMINAL
      );
      certification[p.id] = {
        status: c.status,
        method: c.method,
        certified_on: c.certifiedOn === null ? null : fmtDay(c.certifiedOn),
        valid_until: c.certifiedOn === null ? null : fmtDay(addMonths(c.certifiedOn, 12))
      };
      if (c.status === 'certified') {
        pop.certified++;
        if (c.method === 'silent') pop.certified_silent++;
      } else if (c.status === 'negative') pop.negative++;
      else pop.not_certified++;
      if (role?.kind === 'SAMEDAY' && c.method === 'silent' && p.certs.some((x) => x.pass && x.day === c.certifiedOn)) {
        edgeCases.push({ id_number: p.id, case: 'explicit pass on the same day as the strong evidence: silent wins' });
      }
    }

    // Policy (AGE80, HARD, DIS): eligibility at asOf vs a payout for the last payment month.
    const living = !p.death && isActiveRecipient(p);
    const activeHardship = (kinds: string[], levels?: string[]) =>
      p.hardship.some(
        (h) => kinds.includes(h.kind) && h.since <= asOf && (h.until === null || h.until > asOf) && (!levels || levels.includes(h.level))
      );
    const eligible: Record<string, boolean> = {
      AGE80: living && ageOn(p.birth, asOf) >= 80,
      HARD: living && activeHardship(['minimum_living', 'extreme_poverty']),
      DIS: living && activeHardship(['disability'], ['1', '2'])
    };
    for (const project of ['AGE80', 'HARD', 'DIS']) {
      const receiving = p.payouts.some((x) => x.project === project && x.period === lastMonth);
      if (eligible[project] && !receiving) policy.eligibleNotReceiving.push({ project, id_number: p.id });
      if (!eligible[project] && receiving) policy.receivingNotEligible.push({ project, id_number: p.id });
    }
    const planted = role && ['ENR_AGE80', 'ENR_HARD', 'RNE_AGE80', 'RNE_HARD', 'RNE_DIS'].includes(role.kind);
    const listed =
      policy.eligibleNotReceiving.some((x) => x.id_number === p.id) || policy.receivingNotEligible.some((x) => x.id_number === p.id);
    if (listed !== Boolean(planted)) {
      const detail = {
        eligible,
        birth: fmtDay(p.birth),
        death: p.death && fmtDay(p.death.day),
        hardship: p.hardship.map((h) => [h.kind, h.level, fmtDay(h.since), h.until && fmtDay(h.until)])
      };
      throw new Error(
        `generator bug: person ${p.idx} (${role?.kind ?? 'clean'}) policy lists disagree with the plan ${JSON.stringify(detail)}`
      );
    }
  }

  function alertOf(h: RuleHit, id: string): AlertTruth {
    return { rule: h.rule, id_number: id, periods: h.periods.map(fmtMonth), amount_at_risk: money(h.fen) };
  }

  // Shared accounts: one alert per planted group.
  plan.groups.forEach((g, gi) => {
    const members = groupMembers.get(gi) ?? [];
    let fen = 0;
    for (const m of members) for (const x of m.payments) if (x.account === g.account && x.status === 'paid') fen += x.fen;
    const ids = members.map((m) => m.id).sort();
    alerts.push({
      rule: 'shared_account',
      id_number: ids[0],
      periods: g.periods.map(fmtMonth),
      amount_at_risk: money(fen),
      account_no: g.account,
      persons: ids
    });
  });
  for (const pair of couples.values()) {
    if (pair.length === 2)
      decoys.push({
        rule: 'shared_account',
        id_numbers: pair.map((x) => x.id),
        why: `a couple sharing account ${pair[0].account} (2 people, below 3)`
      });
  }
  alerts.sort(
    (a, b) =>
      RULES.indexOf(a.rule as (typeof RULES)[number]) - RULES.indexOf(b.rule as (typeof RULES)[number]) ||
      a.id_number.localeCompare(b.id_number)
  );

  const payroll = payrollDraft.finish(DEFAULT_RULES.risk.shared_account_min_people);

  // ---- rows for persons nobody ever delivers ----
  writer.unknownPersons(new Rng(opts.seed, 'unknown-persons'));

  // ---- fund ledger ----
  writeFund(fundFile, fund, firstMonth, lastMonth, new Rng(opts.seed, 'fund'));

  // ---- close main files (remaining bad rows go at the end) ----
  for (const f of all) {
    f.maybeBad(ctx, quarantine, reservoir.length > 0, true);
    f.close();
  }

  // ---- special files ----
  const unreadableFiles: GroundTruth['unreadableFiles'] = [];
  const ignoredFiles: GroundTruth['ignoredFiles'] = [];
  const duplicateFiles: GroundTruth['duplicateFiles'] = [];
  {
    const rng = new Rng(opts.seed, 'special-files');
    // Binary garbage named .csv (an XLSX zip saved with the wrong extension).
    const garbage = Buffer.alloc(4096);
    garbage.write('PK\u0003\u0004\u0014\u0000\u0006\u0000', 0, 'latin1');
    for (let i = 8; i < garbage.length; i++) garbage[i] = rng.int(0, 255);
    fs.writeFileSync(path.join(root, 'evidence/evidence-vendor-export.csv'), garbage);
    unreadableFiles.push({ feed: 'evidence', file: 'evidence/evidence-vendor-export.csv', reason_kind: 'not_csv' });
    // A checkups export without the required booked_for column.
    const ck = ['checkup_id,id_number,hospital,attended_at,result'];
    for (let i = 0; i < 5; i++)
      ck.push(
        `CKX${String(i + 1).padStart(4, '0')},${reservoir[i % reservoir.length].id},越州市人民医院,2026-06-0${i + 1}T08:30:00,normal`
      );
    fs.writeFileSync(path.join(root, 'checkups/checkups-clinic-export.csv'), ck.join('\n') + '\n');
    unreadableFiles.push({ feed: 'checkups', file: 'checkups/checkups-clinic-export.csv', reason_kind: 'missing_column' });
    // A file in a folder that is no feed.
    fs.mkdirSync(path.join(root, 'bank_returns'), { recursive: true });
    const br = ['account_no,amount,returned_at', `${reservoir[0].enrollments[0].account},3000.00,2026-10-20T10:00:00`];
    fs.writeFileSync(path.join(root, `bank_returns/returns-${fmtMonth(lastMonth)}.csv`), br.join('\n') + '\n');
    unreadableFiles.push({ feed: 'bank_returns', file: `bank_returns/returns-${fmtMonth(lastMonth)}.csv`, reason_kind: 'unknown_feed' });
    // A payment file still being written: must never be read.
    const part = [
      COLS.payments.join(','),
      `PM${fmtMonthCompact(asOfMonth)}000000001,${reservoir[0].id},ENT,${fmtMonth(asOfMonth)},3000.00,${fmtDay(dayInMonth(asOfMonth, 18))}T09:00:00,paid,${reservoir[0].enrollments[0].account}`,
      'PM2026'
    ];
    const partRel = `payments/payments-${fmtMonth(asOfMonth)}.csv.part`;
    fs.writeFileSync(path.join(root, partRel), part.join('\n'));
    ignoredFiles.push({ file: partRel });
    // A byte-identical re-delivery under a new name (idempotency).
    const firstCert = [...certFiles.values()][0];
    const resendRel = firstCert.rel.replace('.csv', '-resend.csv');
    fs.copyFileSync(path.join(root, firstCert.rel), path.join(root, resendRel));
    duplicateFiles.push({ feed: 'certifications', file: resendRel, same_as: firstCert.rel });
  }

  // ---- counts ----
  const counts = {} as GroundTruth['counts'];
  for (const feed of FEEDS) counts[feed] = { rows: 0, valid: 0, quarantined: 0, keys: 0 };
  for (const f of all) {
    const c = counts[f.feed as Feed];
    c.rows += f.rows;
    c.quarantined += f.badWritten;
  }
  const firstCert = [...certFiles.values()][0];
  counts.certifications.rows += firstCert.rows;
  counts.certifications.quarantined += firstCert.badWritten;
  for (const feed of FEEDS) {
    const c = counts[feed];
    c.valid = c.rows - c.quarantined;
    c.keys = c.valid;
  }
  counts.certifications.keys -= firstCert.rows - firstCert.badWritten;
  counts.persons.keys -= correctionFile.rows;
  counts.deaths.keys -= withdrawnDeathFile.rows;
  counts.imprisonments.keys -= withdrawnCustodyFile.rows;
  const csvCount = all.length + 1 + 3;
  counts.files = {
    total: csvCount + 1,
    csv: csvCount,
    loadable: all.length + 1,
    unreadable: unreadableFiles.length,
    ignored_part: ignoredFiles.length,
    duplicates: duplicateFiles.length
  };

  const extraColumns = all.filter((f) => f.style.extra).map((f) => ({ feed: f.feed, file: f.rel, columns: [f.style.extra!] }));
  const encodings = all.map((f) => ({ file: f.rel, encoding: f.encodingName, eol: f.eolName }));
  encodings.push({ file: resendRelOf(firstCert.rel), encoding: firstCert.encodingName, eol: firstCert.eolName });
  quarantine.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);

  const truth: GroundTruth = {
    asOf: asOfIso,
    seed: opts.seed,
    scale: opts.scale,
    window: {
      first_period: fmtMonth(firstMonth),
      last_period: fmtMonth(lastMonth),
      evidence_from: fmtDay(world.evStart),
      cutoff: fmtDay(world.cutoff)
    },
    counts,
    quarantine,
    unreadableFiles,
    ignoredFiles,
    duplicateFiles,
    extraColumns,
    encodings,
    alerts,
    decoys,
    certification,
    silentRate: pop.certified ? pop.certified_silent / pop.certified : 0,
    certificationEdgeCases: edgeCases,
    retirement,
    policy,
    corrections,
    withdrawals,
    unknownPersonRows,
    payroll,
    population: pop
  };
  writeTruth(path.join(root, '.ground-truth.json'), truth);
  return truth;
}

/** Clear what an earlier run wrote (see GenerateOptions.clean); refuse to touch anything else. */
function prepareOutDir(root: string, clean: boolean): void {
  fs.mkdirSync(root, { recursive: true });
  const previous = new Set<string>();
  const truthFile = path.join(root, '.ground-truth.json');
  if (fs.existsSync(truthFile)) {
    try {
      const t = JSON.parse(fs.readFileSync(truthFile, 'utf8')) as Partial<GroundTruth>;
      for (const list of [t.encodings, t.unreadableFiles, t.ignoredFiles, t.duplicateFiles])
        for (const e of list ?? []) previous.add(e.file);
    } catch {
      // An unreadable ground truth lists nothing: its files count as foreign.
    }
  }
  const found: string[] = [];
  for (const dir of fs.readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name.startsWith('.')) continue;
    for (const f of fs.readdirSync(path.join(root, dir.name))) {
      if (f.endsWith('.csv') || f.endsWith('.csv.part')) found.push(`${dir.name}/${f}`);
    }
  }
  const foreign = found.filter((f) => !previous.has(f));
  if (foreign.length && !clean) {
    throw new Error(
      `${root} already holds feed files this generator did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); use an empty folder or the clean option`
    );
  }
  for (const f of found) fs.rmSync(path.join(root, f));
  fs.rmSync(truthFile, { force: true });
  fs.rmSync(path.join(root, '.geo', 'city.geojson'), { force: true });
}

function resendRelOf(rel: string): string {
  return rel.replace('.csv', '-resend.csv');
}

/** One top-level key per line; the two big maps one entry per line. */
function writeTruth(file: string, t: GroundTruth): void {
  const sink = new TextSink(file);
  const keys = Object.keys(t) as (keyof GroundTruth)[];
  sink.write('{\n');
  keys.forEach((k, i) => {
    const v = t[k];
    const comma = i < keys.length - 1 ? ',' : '';
    if (k === 'certification' || k === 'retirement') {
      const entries = Object.entries(v as Record<string, unknown>);
      sink.write(`${JSON.stringify(k)}: {\n`);
      entries.forEach(([id, val], j) =>
        sink.write(`  ${JSON.stringify(id)}: ${JSON.stringify(val)}${j < entries.length - 1 ? ',' : ''}\n`)
      );
      sink.write(`}${comma}\n`);
    } else if (Array.isArray(v)) {
      sink.write(`${JSON.stringify(k)}: [`);
      v.forEach((item, j) => sink.write(`\n  ${JSON.stringify(item)}${j < v.length - 1 ? ',' : ''}`));
      sink.write(`${v.length ? '\n' : ''}]${comma}\n`);
    } else {
      sink.write(`${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}\n`);
    }
  });
  sink.write('}\n');
  sink.close();
}

/** Read a ground truth written by generateCity. */
export function readGroundTruth(outDir: string): GroundTruth {
  return JSON.parse(fs.readFileSync(path.join(outDir, '.ground-truth.json'), 'utf8')) as GroundTruth;
}

function writeFund(f: FeedFile, sums: Map<string, number[]>, firstMonth: Month, lastMonth: Month, rng: Rng): void {
  const sum = (s: string, m: Month) => sums.get(s)?.[m - firstMonth] ?? 0;
  const schemes = ['ENT', 'INS', 'RES', 'LLF', 'VET', 'CAD', 'FPR'];
  const capacity: Record<string, number> = { ENT: 22, INS: 16, RES: 30, LLF: 15, VET: 14, CAD: 14, FPR: 18 };
  for (const s of schemes) {
    let balance = Math.round(sum(s, firstMonth) * capacity[s]);
    for (let m = firstMonth; m <= lastMonth; m++) {
      const exp = sum(s, m);
      let income: number;
      if (s === 'ENT') income = Math.round(exp * (0.93 + rng.float() * 0.14));
      else if (s === 'INS' || s === 'LLF') income = Math.round(exp * (0.96 + rng.float() * 0.08));
      else if (s === 'RES') income = Math.round(exp * (1.0 + rng.float() * 0.1));
      else income = Math.ceil(exp / 1_000_000) * 1_000_000; // fiscal allocation in 10,000-yuan units
      balance += income - exp;
      f.raw([f.p(m), s, f.m(income), f.m(exp), f.m(balance)].join(','));
    }
  }
}

// ---- row writing --------------------------------------------------------------------------------

interface Files {
  personsFiles: FeedFile[];
  supplementFile: FeedFile;
  correctionFile: FeedFile;
  enrollFiles: FeedFile[];
  payFiles: Map<number, FeedFile>;
  evFiles: Map<number, FeedFile>;
  certFiles: Map<number, FeedFile>;
  deathFiles: Map<string, FeedFile>;
  custodyFile: FeedFile;
  subsidyFiles: Map<number, FeedFile>;
  hardshipFiles: FeedFile[];
  checkupFile: FeedFile;
  activityFile: FeedFile;
}

const SINGLE = { singleLine: true } as const;
const MULTILINE_DETAILS = ['门诊, 内科\n复诊', '住院部 "心内科", 3床', '地址: 越州市, 府山街道\n(代办)', '备注:\n家属陪同, 已核实'];

class RowWriter {
  private evSeq = 0;
  private certSeq = 0;
  private recSeq = 0;
  private ckSeq = 0;
  private suSeq = 0;
  private mlCount = 0;

  constructor(
    private readonly w: World,
    private readonly f: Files,
    private readonly fund: Map<string, number[]>,
    private readonly unknown: GroundTruth['unknownPersonRows'],
    private readonly corrections: GroundTruth['corrections']
  ) {}

  private note(p: Person, feed: string, key: string): void {
    if (p.role?.kind === 'LATE') this.unknown.push({ feed, key, id_number: p.id, resolved_by: 'persons/persons-supplement.csv' });
  }

  write(p: Person): void {
    const { w, f } = this;
    // persons
    const personsFile = p.role?.kind === 'LATE' ? f.supplementFile : f.personsFiles[p.hukou.district.index];
    const given = (p.idx * 7) % 20 !== 0; // ~5% deliver sex and birth_date empty (derived from the id)
    const rec = (file: FeedFile, over: Partial<Record<string, string>> = {}): string[] => {
      const r: Record<string, string> = {
        id_number: p.idPersons,
        name: p.nameFirst ?? p.name,
        sex: given ? p.sex : '',
        birth_date: given ? file.d(p.birth) : '',
        phone: p.phone,
        hukou_region: p.hukou.code,
        residence_region: p.residence?.code ?? '',
        residence_outside: p.outside ?? '',
        status: p.recipient ? 'retired' : 'insured',
        retirement_basis: p.basis,
        retired_on: file.d(p.retiredOn),
        updated_at: file.t(p.updatedAt, 36000 + (p.idx % 3600)),
        ...over
      };
      return file.columns.map((c) => r[c]);
    };
    personsFile.row(rec(personsFile));
    if (p.role?.kind === 'CORRECTION') this.correct(p, rec);

    // enrollments
    for (const e of p.enrollments) {
      const file = EXCLUSIVE.has(e.scheme) ? f.enrollFiles[0] : f.enrollFiles[1];
      const lastCovered = Math.min(e.end ?? w.lastMonth, w.lastMonth);
      const fen = e.currentFen ?? e.yearFen.get(yearOfMonth(Math.max(lastCovered, e.start, w.firstMonth)))!;
      file.raw(
        [
          e.id,
          p.id,
          e.scheme,
          e.status,
          file.m(fen),
          fmtMonth(e.start),
          e.end === null ? '' : fmtMonth(e.end),
          e.account,
          e.reason,
          file.t(e.updated, 36000)
        ].join(',')
      );
      this.note(p, 'enrollments', e.id);
    }

    // payments
    for (const x of p.payments) {
      const file = f.payFiles.get(yearOfMonth(x.period))!;
      file.raw(`${x.id},${p.id},${x.scheme},${file.p(x.period)},${file.m(x.fen)},${file.t(x.day, x.sec)},${x.status},${x.account}`, SINGLE);
      if (x.status === 'paid') {
        let series = this.fund.get(x.scheme);
        if (!series) this.fund.set(x.scheme, (series = []));
        const i = x.period - w.firstMonth;
        series[i] = (series[i] ?? 0) + x.fen;
      }
      this.note(p, 'payments', x.id);
    }

    // evidence
    for (const e of p.evidence) {
      const ep = parts(e.day);
      const file = f.evFiles.get(ep.y * 4 + Math.floor((ep.m - 1) / 3))!;
      const id = 'EV' + String(++this.evSeq).padStart(10, '0');
      let detail = e.detail;
      if (file.style.multiline && detail && ++this.mlCount % 3 === 0) detail = MULTILINE_DETAILS[this.mlCount % MULTILINE_DETAILS.length];
      let text = `${id},${p.idEvidence},${e.source},${e.kind},${file.t(e.day, e.sec)},${e.region},${csvField(detail)}`;
      if (file.style.extra) text += `,B${ep.y}${String(ep.m).padStart(2, '0')}-${String(this.evSeq % 997).padStart(3, '0')}`;
      file.raw(text, detail.includes('\n') ? undefined : SINGLE);
      this.note(p, 'evidence', id);
    }

    // certifications
    for (const c of p.certs) {
      const file = f.certFiles.get(parts(c.day).y)!;
      const id = 'CF' + String(++this.certSeq).padStart(9, '0');
      file.row([id, p.id, c.method, file.t(c.day, c.sec), c.pass ? 'pass' : 'fail', c.operator]);
      this.note(p, 'certifications', id);
    }

    // deaths and imprisonments
    if (p.death) {
      for (const r of p.death.records) {
        const file = f.deathFiles.get(r.source)!;
        const id = 'DR' + String(++this.recSeq).padStart(8, '0');
        const vals = [id, p.id, file.d(p.death.day), r.source, fmtTs(r.recorded, r.sec)];
        if (file.style.extra === 'name') vals.push(p.name);
        file.row(vals);
      }
    }
    for (const c of p.custody) {
      const id = 'IM' + String(++this.recSeq).padStart(8, '0');
      f.custodyFile.row([id, p.id, fmtDay(c.start), c.end === null ? '' : fmtDay(c.end), c.source, fmtTs(c.recorded, 39600)]);
    }

    // subsidies
    for (const x of p.payouts) {
      const file = f.subsidyFiles.get(yearOfMonth(x.period))!;
      const id = `SB${fmtMonthCompact(x.period)}${x.project}${String(p.idx).padStart(7, '0')}`;
      file.raw(`${id},${p.id},${x.project},${file.p(x.period)},${file.m(x.fen)},${fmtTs(dayInMonth(x.period, 25), 36000)}`, SINGLE);
      this.note(p, 'subsidies', id);
    }

    // hardship
    for (const h of p.hardship) {
      const file = h.kind === 'disability' ? f.hardshipFiles[1] : f.hardshipFiles[0];
      file.row([p.id, h.kind, h.level, file.d(h.since), file.d(h.until)]);
      this.note(p, 'hardship', `${p.id}|${h.kind}|${fmtDay(h.since)}`);
    }

    // checkups and activities
    for (const c of p.checkups) {
      const id = 'CK' + String(++this.ckSeq).padStart(9, '0');
      f.checkupFile.row([
        id,
        p.id,
        c.hospital,
        fmtDay(c.booked),
        c.attended === null ? '' : fmtTs(c.attended, 28800 + (c.sec % 9000)),
        c.result
      ]);
      this.note(p, 'checkups', id);
    }
    for (const s of p.signups) {
      const id = 'SU' + String(++this.suSeq).padStart(9, '0');
      f.activityFile.row([
        id,
        p.id,
        s.code,
        s.kind,
        fmtTs(s.signed, 43200),
        s.attended === null ? '' : fmtTs(s.attended, 50400),
        s.sat === null ? '' : String(s.sat)
      ]);
      this.note(p, 'activities', id);
    }
  }

  /** The death file of a source (valid versions of withdrawn records go there like any other record). */
  deathFile(source: string): FeedFile {
    return this.f.deathFiles.get(source)!;
  }

  custody(values: string[]): void {
    this.f.custodyFile.row(values);
  }

  /** Corrections: the first delivery carries old values; persons-correction-2.csv the final ones. */
  private correct(p: Person, rec: (file: FeedFile, over?: Partial<Record<string, string>>) => string[]): void {
    const role = p.role as { kind: 'CORRECTION'; variant: number };
    const file = this.f.correctionFile;
    const later = fmtTs(this.w.asOf - 5, 40000);
    const key = p.id;
    const over: Record<string, string> = { updated_at: later, id_number: p.id };
    const push = (field: string, value: string) => this.corrections.push({ feed: 'persons', key, field, final_value: value });
    switch (role.variant) {
      case 0: {
        const phone = '139' + String(10_000_000 + p.idx).slice(-8);
        over.phone = phone;
        push('phone', phone);
        break;
      }
      case 1: {
        const other = this.w.tree.communities[(p.hukou.index + 1) % this.w.tree.communities.length];
        over.residence_region = other.code;
        push('residence_region', other.code);
        break;
      }
      case 2:
        over.name = p.name;
        push('name', p.name);
        break;
      default:
        over.residence_outside = '杭州市';
        over.residence_region = '';
        push('residence_outside', '杭州市');
        if (p.residence) push('residence_region', '');
        break;
    }
    push('updated_at', later);
    file.row(rec(file, over));
    if (role.variant === 2) p.nameFirst = undefined;
  }

  /** Evidence and a certification for people from other cities that no persons file ever delivers. */
  unknownPersons(rng: Rng): void {
    const { f, w } = this;
    const visitors = [makeIdNumber('310104', '1952-03-08', 13), makeIdNumber('330106', '1948-11-21', 24)];
    visitors.forEach((id, i) => {
      const d = w.asOf - 30 - i * 17;
      const ep = parts(d);
      const file = f.evFiles.get(ep.y * 4 + Math.floor((ep.m - 1) / 3))!;
      const evId = 'EV' + String(++this.evSeq).padStart(10, '0');
      let text = `${evId},${id},HEALTH_HIS,outpatient_visit,${file.t(d, 37000 + rng.int(0, 3000))},,越州市人民医院`;
      if (file.style.extra) text += ',B-VISITOR';
      file.raw(text);
      this.unknown.push({ feed: 'evidence', key: evId, id_number: id, resolved_by: null });
    });
    const d = w.asOf - 40;
    const certFile = f.certFiles.get(parts(d).y)!;
    const cid = 'CF' + String(++this.certSeq).padStart(9, '0');
    certFile.row([cid, visitors[0], 'face_online', certFile.t(d, 40000), 'pass', 'GOV_APP']);
    this.unknown.push({ feed: 'certifications', key: cid, id_number: visitors[0], resolved_by: null });
  }
}

/**
 * Living recipients wrongly recorded dead (or in custody) and the record withdrawn later (issue 21): the
 * first clean, active recipients after a third of the index range, each with every enrollment active and a
 * paid payment for every month concerned. The record is dated in lastMonth − 8 and arrives the same month;
 * the withdrawal is recorded in lastMonth − 5; the payments of the schemes it stops (all for a death, the
 * exclusive-group pensions for custody) are dropped for the months in between, so each is owed back pay.
 */
class Withdrawals {
  private deaths = 0;
  private custody = 0;
  constructor(
    private readonly maxDeaths: number,
    private readonly maxCustody: number,
    private readonly recipients: number,
    private readonly firstMonth: Month,
    private readonly lastMonth: Month
  ) {}

  plant(p: Person): {
    feed: 'deaths' | 'imprisonments';
    event: Day;
    arrived: Day;
    withdrawn: Day;
    restorations: GroundTruth['withdrawals'][number]['restorations'];
  } | null {
    const feed = this.deaths < this.maxDeaths ? 'deaths' : this.custody < this.maxCustody ? 'imprisonments' : null;
    if (feed === null || p.idx < Math.floor(this.recipients / 3) || p.role || !p.recipient || p.death || p.custody.length) return null;
    if (!isActiveRecipient(p) || p.enrollments.some((e) => e.status !== 'active') || ageOn(p.birth, firstDay(this.lastMonth)) >= 95)
      return null;
    // Withdrawn before the last three month-ends, so a replay of those (tests/engines-replay.test.ts) sees the
    // same history as a single run.
    const eventMonth = this.lastMonth - 8;
    const from = eventMonth + 1;
    const to = this.lastMonth - 5;
    const stops = (scheme: string) => feed === 'deaths' || EXCLUSIVE.has(scheme);
    const schemes = [...new Set(p.enrollments.filter((e) => stops(e.scheme)).map((e) => e.scheme))];
    for (const scheme of schemes)
      for (let m = from; m <= to; m++)
        if (!p.payments.some((x) => x.scheme === scheme && x.period === m && x.status === 'paid')) return null;
    if (feed === 'deaths') this.deaths++;
    else this.custody++;
    p.payments = p.payments.filter((x) => !(stops(x.scheme) && x.period >= from && x.period <= to));
    const restorations = schemes.sort().map((scheme) => {
      const periods: string[] = [];
      let fen = 0;
      for (let m = from; m <= to; m++) {
        const e = p.enrollments
          .filter((x) => x.scheme === scheme && x.start <= m && (x.end === null || x.end >= m))
          .sort((a, b) => b.start - a.start || a.id.localeCompare(b.id))[0];
        if (!e) continue;
        periods.push(fmtMonth(m));
        // the monthly amount the enrollments file carries (RowWriter.write)
        fen +=
          e.currentFen ??
          e.yearFen.get(yearOfMonth(Math.max(Math.min(e.end ?? this.lastMonth, this.lastMonth), e.start, this.firstMonth)))!;
      }
      return { scheme_code: scheme, periods, back_pay: (fen / 100).toFixed(2) };
    });
    const event = firstDay(eventMonth) + 9;
    return { feed, event, arrived: event + 12, withdrawn: firstDay(to) + 13, restorations };
  }
}
