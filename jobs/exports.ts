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

// The engines' datasets (alerts, certifications, retirements, subsidy-matches, cases, tasks).
Object.assign(DATASETS, ENGINE_DATASETS);
// The pre-payroll check's (payroll-findings, payroll-diff, payroll-holds: --period YYYY-MM).
Object.assign(DATASETS, PAYROLL_DATASETS);

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
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
  if (ds.takesPeriod && !opts.period) throw new Error(`${name} needs a period (--period YYYY-MM)`);
  await ds.precheck?.(pool, { period: opts.period });
  const client = await pool.connect();
  let rows = 0;
  const write = (s: string) => new Promise<void>((resolve) => (opts.out.write(s) ? resolve() : opts.out.once('drain', () => resolve())));
  try {
    const cursor = client.query(new Cursor(ds.sql, ds.takesPeriod ? [opts.period] : ds.takesAsOf ? [opts.asOf] : []));
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
