// The department feeds (docs/feeds.md) as data: ONE definition per feed — its folder, target
// table, natural key and typed columns. Reading, validation, staging and merging are all driven by it.
//
// Decisions where the contract leaves room (also in docs/feeds.md and the README's feed section):
//  * Values are trimmed; an empty or all-blank value is null. Header names are trimmed and case-insensitive;
//    a duplicated column name rejects the file (`duplicate_column`), as does a missing required column.
//  * Fixed enumerations match case-insensitively and are stored in the spelling of the contract (`m` → `M`).
//    Catalogue codes (schemes, subsidy projects, evidence kinds and sources) are checked against the ref_*
//    tables read at the start of each run (deployments extend those), exact match first, then ignoring case.
//  * Dates: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, a real calendar date in the years 1800–9999.
//    Timestamps: ISO-8601 — extended or basic date, `T` or one space, HH:MM[:SS[.fraction]], optional `Z`
//    or ±HH[:MM]; a bare date means midnight; no offset means Asia/Shanghai local time.
//    Periods: YYYY-MM or YYYYMM, stored as the first day of the month.
//  * Money: digits with an optional point and 1–2 decimals (`3125`, `3125.5`, `3125.50`); no sign, no
//    exponent, no thousands separators, at most 12 digits before the point (numeric(14,2)). `-0.00` is zero.
//    The only signed amount is the fund ledger's `balance`: a fund can run a deficit, whereas income and
//    expenditure are flows and never negative.
//  * Region codes (regions.code/parent_code, persons.hukou_region/residence_region, evidence.region) are
//    digit strings; they are not checked against the regions table (arrival order does not matter).
//  * regions: a `city` has no parent_code, every other level has one, and no region is its own parent.
//  * persons: retirement_basis is required for `insured` people ("needed for insured people") and must fit
//    the sex (M60 men; F55/F50 women). Sex and birth date are derived from the id_number when absent and
//    must agree with it when given.
//  * Ranges: end_period ≥ start_period (enrollments), end_date ≥ start_date (imprisonments),
//    until ≥ since (hardship); otherwise the row is quarantined (`end_before_start`).
//  * id_number values in every feed are validated and stored as the 18-character upper-case number; a row
//    whose person is not (yet) in persons is loaded and counted as an unresolved person reference.
//  * A row with several problems is quarantined once (its first problem's code, all messages in the reason).
//  * Versions: the later delivery wins (files are processed in arrival order: modification time, then name);
//    within a file the later line wins. Replaced versions are kept in row_history. Arrival in another order
//    gives the same tables whenever the files do not hold conflicting versions of the same key.
//  * Counts per file (and run): read = loaded + replaced + quarantined, where `replaced` rows replaced a
//    different earlier version of their key (from the table or earlier in the same file) and `loaded` rows
//    are new keys or identical re-deliveries (those also counted as `unchanged`). A rejected or duplicate
//    file reads 0 rows. Blank lines are not rows.
//  * Line numbers are physical (the header is line 1; a record with a quoted line break spans several lines
//    and carries the number of its first). Line ends are LF or CRLF. A record longer than 1 MiB (in practice
//    an unclosed quote) is quarantined as `bad_csv` on its first line and reading resumes on the next line.
//  * Files: only `<inbox>/<folder>/*.csv` (any case) are read; `.part` files, other extensions, dot-files and
//    dot-folders (.done, .rejected, .geo …) are left alone. A file in a folder that is not a feed is rejected
//    whole (`unknown_feed`). Rejected files move to `.rejected/<folder>/`, loaded ones to `.done/<folder>/`
//    (a name already there gets a `~<file_id>` suffix). A file is known by the SHA-256 of its content: the
//    same content again, under any name, is skipped (a duplicate, counts 0); content rejected under one folder
//    is judged again when delivered to another. To retry a rejected file unchanged, delete its
//    quarantine and ingest_files rows.
//  * Encoding: UTF-8 BOM → UTF-8; NUL bytes or a UTF-16/32 BOM in the first MiB → not a CSV text file
//    (`not_csv`); otherwise UTF-8 on the first MiB that holds non-ASCII bytes (strictly, or ≥ 95% of its multibyte
//    sequences: a damaged UTF-8 file) → UTF-8, else GB18030 — if it looks like GB18030 Chinese: a file that
//    chardet takes for Big5, Shift-JIS or EUC, or does not take for GB18030 Chinese at all, is rejected
//    whole (`bad_encoding`) instead of loaded as valid-looking garbage.
//    A line with bytes invalid in the detected encoding is quarantined (`bad_encoding`), never loaded as mojibake.
//  * A row PostgreSQL still refuses (a constraint the validator does not know) is quarantined as
//    `db_rejected` with the server's message and the file is loaded again without it.

export type CatalogueName = 'schemes' | 'subsidy_projects' | 'evidence_kinds' | 'evidence_sources';

/** Where each catalogue lives and how a person should read its name in a reason. */
export const CATALOGUES: Record<CatalogueName, { table: string; column: string; label: string }> = {
  schemes: { table: 'ref_schemes', column: 'scheme_code', label: 'the scheme catalogue (ref_schemes)' },
  subsidy_projects: {
    table: 'ref_subsidy_projects',
    column: 'project_code',
    label: 'the subsidy project catalogue (ref_subsidy_projects)'
  },
  evidence_kinds: { table: 'ref_evidence_kinds', column: 'kind', label: 'the evidence kind catalogue (ref_evidence_kinds)' },
  evidence_sources: { table: 'ref_evidence_sources', column: 'source_code', label: 'the evidence source catalogue (ref_evidence_sources)' }
};

export type ColumnType =
  | { kind: 'text' }
  | { kind: 'id_number' }
  | { kind: 'region_code' }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'period' }
  | { kind: 'money'; signed?: boolean }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'catalogue'; catalogue: CatalogueName };

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Required by the contract (docs/feeds.md): the header must have it and the value must not be empty. */
  required?: boolean;
  /** Bold but may be empty (regions.parent_code, empty for the city): the header must have it. */
  inHeader?: boolean;
  /** Filled from the row's id_number when empty; when given it must agree (persons.sex, persons.birth_date). */
  fromIdNumber?: 'sex' | 'birth_date';
  /** Stored when the value is empty (deaths/imprisonments.status: empty = `valid`), so a re-delivery with the default spelled out is no change. */
  whenEmpty?: string;
}

/** Cross-field rules, checked after every column parsed. */
export type RowRule =
  | { kind: 'not_before'; earlier: string; later: string }
  | { kind: 'required_when'; column: string; when: string; equals: string }
  | { kind: 'fits'; column: string; other: string; allowed: Record<string, readonly string[]> }
  | { kind: 'tree_parent'; self: string; parent: string; level: string; root: string };

export interface FeedDef {
  /** Folder name under the inbox. */
  feed: string;
  table: string;
  /** Natural key columns. */
  key: readonly string[];
  columns: readonly ColumnDef[];
  rules?: readonly RowRule[];
}

const text = { kind: 'text' } as const;
const id = { kind: 'id_number' } as const;
const region = { kind: 'region_code' } as const;
const date = { kind: 'date' } as const;
const ts = { kind: 'timestamp' } as const;
const period = { kind: 'period' } as const;
const money = { kind: 'money' } as const;
const oneOf = (...values: string[]) => ({ kind: 'enum', values }) as const;
const cat = (catalogue: CatalogueName) => ({ kind: 'catalogue', catalogue }) as const;
const req = (name: string, type: ColumnType): ColumnDef => ({ name, type, required: true });
const opt = (name: string, type: ColumnType): ColumnDef => ({ name, type });
// A department withdraws a death or custody record it sent in error by delivering the same record_id again
// with `withdrawn`: an ordinary correction (the valid version goes to row_history); engines read both versions
// through deaths_as_of / imprisonments_as_of (migration 0022).
const RECORD_STATUS: ColumnDef = { name: 'status', type: oneOf('valid', 'withdrawn'), whenEmpty: 'valid' };

export const FEEDS: readonly FeedDef[] = [
  {
    feed: 'regions',
    table: 'regions',
    key: ['code'],
    columns: [
      req('code', region),
      req('name', text),
      req('level', oneOf('city', 'district', 'town', 'community')),
      { name: 'parent_code', type: region, inHeader: true }
    ],
    rules: [{ kind: 'tree_parent', self: 'code', parent: 'parent_code', level: 'level', root: 'city' }]
  },
  {
    feed: 'persons',
    table: 'persons',
    key: ['id_number'],
    columns: [
      req('id_number', id),
      req('name', text),
      { name: 'sex', type: oneOf('M', 'F'), fromIdNumber: 'sex' },
      { name: 'birth_date', type: date, fromIdNumber: 'birth_date' },
      opt('phone', text),
      req('hukou_region', region),
      opt('residence_region', region),
      opt('residence_outside', text),
      req('status', oneOf('insured', 'retired')),
      opt('retirement_basis', oneOf('M60', 'F55', 'F50')),
      opt('retired_on', date),
      opt('updated_at', ts)
    ],
    rules: [
      { kind: 'required_when', column: 'retirement_basis', when: 'status', equals: 'insured' },
      { kind: 'fits', column: 'retirement_basis', other: 'sex', allowed: { M60: ['M'], F55: ['F'], F50: ['F'] } }
    ]
  },
  {
    feed: 'enrollments',
    table: 'enrollments',
    key: ['enrollment_id'],
    columns: [
      req('enrollment_id', text),
      req('id_number', id),
      req('scheme_code', cat('schemes')),
      req('status', oneOf('active', 'suspended', 'terminated')),
      req('monthly_amount', money),
      req('start_period', period),
      opt('end_period', period),
      opt('account_no', text),
      opt('suspended_reason', text),
      opt('updated_at', ts)
    ],
    rules: [{ kind: 'not_before', earlier: 'start_period', later: 'end_period' }]
  },
  {
    feed: 'payments',
    table: 'payments',
    key: ['payment_id'],
    columns: [
      req('payment_id', text),
      req('id_number', id),
      req('scheme_code', cat('schemes')),
      req('period', period),
      req('amount', money),
      opt('paid_at', ts),
      req('status', oneOf('paid', 'failed', 'returned')),
      opt('account_no', text)
    ]
  },
  {
    feed: 'evidence',
    table: 'evidence',
    key: ['evidence_id'],
    columns: [
      req('evidence_id', text),
      req('id_number', id),
      req('source', cat('evidence_sources')),
      req('kind', cat('evidence_kinds')),
      req('occurred_at', ts),
      opt('region', region),
      opt('detail', text)
    ]
  },
  {
    feed: 'certifications',
    table: 'certifications',
    key: ['certification_id'],
    columns: [
      req('certification_id', text),
      req('id_number', id),
      req('method', oneOf('face_online', 'field_visit', 'kiosk', 'counter')),
      req('certified_at', ts),
      req('result', oneOf('pass', 'fail')),
      opt('operator', text)
    ]
  },
  {
    feed: 'deaths',
    table: 'deaths',
    key: ['record_id'],
    columns: [
      req('record_id', text),
      req('id_number', id),
      req('death_date', date),
      req('source', oneOf('public_security', 'health', 'civil_affairs', 'court')),
      opt('recorded_at', ts),
      RECORD_STATUS
    ]
  },
  {
    feed: 'imprisonments',
    table: 'imprisonments',
    key: ['record_id'],
    columns: [
      req('record_id', text),
      req('id_number', id),
      req('start_date', date),
      opt('end_date', date),
      req('source', oneOf('prison', 'court', 'public_security')),
      opt('recorded_at', ts),
      RECORD_STATUS
    ],
    rules: [{ kind: 'not_before', earlier: 'start_date', later: 'end_date' }]
  },
  {
    feed: 'subsidies',
    table: 'subsidies',
    key: ['payout_id'],
    columns: [
      req('payout_id', text),
      req('id_number', id),
      req('project_code', cat('subsidy_projects')),
      req('period', period),
      req('amount', money),
      opt('paid_at', ts)
    ]
  },
  {
    feed: 'hardship',
    table: 'hardship',
    key: ['id_number', 'kind', 'since'],
    columns: [
      req('id_number', id),
      req('kind', oneOf('minimum_living', 'extreme_poverty', 'disability', 'low_income')),
      opt('level', text),
      req('since', date),
      opt('until', date)
    ],
    rules: [{ kind: 'not_before', earlier: 'since', later: 'until' }]
  },
  {
    feed: 'checkups',
    table: 'checkups',
    key: ['checkup_id'],
    columns: [
      req('checkup_id', text),
      req('id_number', id),
      opt('hospital', text),
      req('booked_for', date),
      opt('attended_at', ts),
      opt('result', oneOf('normal', 'abnormal', 'pending'))
    ]
  },
  {
    // balance is signed: a scheme's fund may run a deficit (docs/feeds.md: amounts are never negative except where stated).
    feed: 'fund',
    table: 'fund_ledger',
    key: ['period', 'scheme_code'],
    columns: [
      req('period', period),
      req('scheme_code', cat('schemes')),
      req('income', money),
      req('expenditure', money),
      req('balance', { kind: 'money', signed: true })
    ]
  },
  {
    feed: 'activities',
    table: 'activities',
    key: ['signup_id'],
    columns: [
      req('signup_id', text),
      req('id_number', id),
      req('activity_code', text),
      req('kind', oneOf('activity', 'education')),
      req('signed_up_at', ts),
      opt('attended_at', ts),
      opt('satisfaction', { kind: 'int', min: 1, max: 5 })
    ]
  },
  {
    // The payroll system's draft for a coming month (issue 17). Several drafts of one period may arrive: the
    // one with the latest prepared_at is the period's current draft (read by the pre-payroll check, not here);
    // a later file with the same draft_id corrects lines by line_id like any keyed feed.
    feed: 'payroll_draft',
    table: 'payroll_draft',
    key: ['draft_id', 'line_id'],
    columns: [
      req('draft_id', text),
      req('line_id', text),
      req('id_number', id),
      req('scheme_code', cat('schemes')),
      req('period', period),
      req('amount', money),
      req('account_no', text),
      opt('bank', text),
      req('prepared_at', ts)
    ]
  }
];

export const FEED_BY_NAME: ReadonlyMap<string, FeedDef> = new Map(FEEDS.map((f) => [f.feed, f]));

/** Default processing order: the area tree and the registry first (nothing depends on it for correctness). */
export const FEED_ORDER: readonly string[] = FEEDS.map((f) => f.feed);

/** Feeds whose rows refer to a person by id_number (counted as unresolved while the person is unknown). */
export const PERSON_REF_FEEDS: readonly FeedDef[] = FEEDS.filter(
  (f) => f.feed !== 'persons' && f.columns.some((c) => c.name === 'id_number')
);
