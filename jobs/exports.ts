// `yinling export <dataset>`: stable, documented columns, streamed through a cursor so a city-scale
// export never sits in memory. Personal data is masked unless the operator asks for --unmask,
// which is audit-logged. Engines register their datasets here too (one place).
import Cursor from 'pg-cursor';
import { stringify } from 'csv-stringify';
import type { Writable } from 'node:stream';
import type { Pool } from '../core/db/pool.ts';
import { maskIdNumber, maskIdNumbersIn, maskName, maskPhone } from '../core/domain/masking.ts';
import { spreadsheetCell } from '../core/spreadsheet.ts';
import { ENGINE_DATASETS } from './engines/datasets.ts';
import { PAYROLL_DATASETS } from './engines/payroll-datasets.ts';
import { UsageError } from '../core/errors.ts';
import { shanghaiIso, todayShanghai } from '../core/time.ts';

export interface Dataset {
  description: string;
  /** SQL returning exactly `columns`, in order. $1 = as-of date when the dataset takes one. */
  sql: string;
  columns: string[];
  /** Columns holding personal data and how to mask them. */
  personal?: Partial<Record<string, (v: string | null) => string | null>>;
  takesAsOf?: boolean;
  /** $1 = the period's first day (`--period YYYY-MM`, required); takes precedence over takesAsOf. */
  takesPeriod?: boolean;
  /** Runs before the export: throws a one-line error (e.g. a period with no draft) before any row is written. */
  precheck?: (pool: Pool, opts: { period?: string }) => Promise<void>;
}

export const DATASETS: Record<string, Dataset> = {
  quarantine: {
    description: 'rows and files that could not be loaded, with file, line, raw text and reason',
    sql: `SELECT quarantine_id, feed, file_name, line_no, reason_code, reason, raw_line, created_at
            FROM quarantine ORDER BY quarantine_id`,
    columns: ['quarantine_id', 'feed', 'file_name', 'line_no', 'reason_code', 'reason', 'raw_line', 'created_at'],
    // ID numbers are masked wherever they appear: in the raw line and in the reason (a sex or birth-date mismatch quotes one)
    personal: { raw_line: maskIdNumbersIn, reason: maskIdNumbersIn }
  },
  persons: {
    description: 'the person registry (current versions)',
    sql: `SELECT id_number, name, sex, birth_date, phone, hukou_region, residence_region, residence_outside, status,
                 retirement_basis, retired_on, updated_at
            FROM persons ORDER BY id_number`,
    columns: [
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
    personal: { id_number: (v) => (v === null ? null : maskIdNumber(v)), name: maskName, phone: maskPhone }
  },
  'job-runs': {
    description: 'job runs with their counts',
    sql: `SELECT run_id, job, trigger, status, started_at, finished_at, as_of, rows_read, rows_loaded, rows_replaced,
                 rows_quarantined, counts, error
            FROM job_runs ORDER BY started_at DESC, run_id DESC`,
    columns: [
      'run_id',
      'job',
      'trigger',
      'status',
      'started_at',
      'finished_at',
      'as_of',
      'rows_read',
      'rows_loaded',
      'rows_replaced',
      'rows_quarantined',
      'counts',
      'error'
    ]
  }
};

// The auditors' workbench (migrations 0025/0026): the hold list for the payroll system and the audit trail.
DATASETS['payment-holds'] = {
  description:
    'people whose benefit is held for --period YYYY-MM (approved suspensions and stops not released by then), for the payroll system; kind stop only with a confirmed source',
  sql: `SELECT h.hold_id, h.id_number, p.name, array_to_string(h.scheme_codes, ';') AS schemes, to_char(h.from_period, 'YYYY-MM') AS from_period,
               h.kind, h.source_confirmed, h.alert_id, a.rule, h.proposed_by, h.approved_by, h.created_at
          FROM payment_holds h JOIN alerts a USING (alert_id) LEFT JOIN persons p ON p.id_number = h.id_number
         WHERE h.from_period <= $1::date
           AND (h.released_at IS NULL OR h.released_at >= ($1::date + INTERVAL '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai')
         ORDER BY h.hold_id`,
  columns: [
    'hold_id',
    'id_number',
    'name',
    'schemes',
    'from_period',
    'kind',
    'source_confirmed',
    'alert_id',
    'rule',
    'proposed_by',
    'approved_by',
    'created_at'
  ],
  personal: { id_number: (v) => (v === null ? null : maskIdNumber(v)), name: maskName },
  takesPeriod: true
};
DATASETS.audit = {
  description:
    "the audit trail in chain order: who did what when, with each event's previous hash and hash (`yinling audit verify` checks them)",
  sql: `SELECT audit_id, at, actor_type, actor, action, subject, detail::text AS detail, ip, prev_hash, hash FROM audit_log ORDER BY audit_id`,
  columns: ['audit_id', 'at', 'actor_type', 'actor', 'action', 'subject', 'detail', 'ip', 'prev_hash', 'hash'],
  // an unmasked view is logged with the person's ID number as its subject
  personal: { subject: maskIdNumbersIn, detail: maskIdNumbersIn }
};

// The engines' datasets (alerts, certifications, retirements, subsidy-matches, cases, tasks).
Object.assign(DATASETS, ENGINE_DATASETS);
// The pre-payroll check's (payroll-findings, payroll-diff, payroll-holds: --period YYYY-MM).
Object.assign(DATASETS, PAYROLL_DATASETS);

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return shanghaiIso(v, 'ms');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export async function exportDataset(
  pool: Pool,
  name: string,
  opts: { format: 'csv' | 'json'; out: Writable; unmask?: boolean; asOf?: string; period?: string }
): Promise<number> {
  const ds = DATASETS[name];
  if (!ds) throw new Error(`unknown dataset "${name}"`);
  // a dataset of a month: this month (Asia/Shanghai) unless one is named (the CLI asks for --period);
  // 'YYYY-MM' or its first day 'YYYY-MM-01'
  const month = (opts.period ?? todayShanghai()).slice(0, 7);
  if (ds.takesPeriod && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new UsageError(`the dataset ${name} needs --period YYYY-MM`);
  const periodStart = `${month}-01`;
  if (ds.takesPeriod) await ds.precheck?.(pool, { period: periodStart });
  const client = await pool.connect();
  let rows = 0;
  const write = (s: string) => new Promise<void>((resolve) => (opts.out.write(s) ? resolve() : opts.out.once('drain', () => resolve())));
  try {
    const cursor = client.query(new Cursor(ds.sql, ds.takesPeriod ? [periodStart] : ds.takesAsOf ? [opts.asOf] : []));
    const csv = opts.format === 'csv' ? stringify({ header: true, columns: ds.columns }) : undefined;
    if (csv) csv.on('data', (chunk: Buffer) => opts.out.write(chunk));
    if (!csv) await write('[');
    for (;;) {
      const batch: Record<string, unknown>[] = await cursor.read(2000);
      if (batch.length === 0) break;
      for (const r of batch) {
        const out: Record<string, string | null> = {};
        for (const c of ds.columns) {
          const v = cell(r[c]);
          const mask = opts.unmask ? undefined : ds.personal?.[c];
          const shown = mask ? mask(v) : v;
          out[c] = csv && shown !== null ? spreadsheetCell(shown) : shown;
        }
        if (csv) {
          if (!csv.write(out)) await new Promise((r2) => csv.once('drain', r2));
        } else {
          await write((rows === 0 ? '\n' : ',\n') + JSON.stringify(out));
        }
        rows++;
      }
    }
    await cursor.close();
    if (csv)
      await new Promise<void>((resolve, reject) => {
        csv.on('end', resolve);
        csv.on('error', reject);
        csv.end();
      });
    else await write(rows ? '\n]\n' : ']\n');
    return rows;
  } finally {
    client.release();
  }
}
