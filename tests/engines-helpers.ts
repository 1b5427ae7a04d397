// Helpers for the engines' integration tests: terse inserts of hand-built feed rows.
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from '../core/db/pool.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';

let seq = 0;
/** A valid id number: sex M/F, birth date. */
export function pid(birth: string, sex: 'M' | 'F' = 'M'): string {
  seq += 1;
  const n = (seq % 480) * 2 + (sex === 'M' ? 1 : 0);
  return makeIdNumber(String(330681 + Math.floor(seq / 480)), birth, n);
}

type Row = Record<string, unknown>;
export async function insert(pool: Pool, table: string, rows: Row[]): Promise<void> {
  if (!rows.length) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const values: unknown[] = [];
  const tuples = rows.map(
    (r) =>
      '(' +
      cols
        .map((c) => {
          values.push(r[c] ?? null);
          return `$${values.length}`;
        })
        .join(', ') +
      ')'
  );
  await pool.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, values);
}

export async function person(pool: Pool, id: string, extra: Row = {}): Promise<void> {
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  await insert(pool, 'persons', [
    {
      id_number: id,
      name: '测试' + id.slice(-4),
      sex: Number(id[16]) % 2 ? 'M' : 'F',
      birth_date: birth,
      hukou_region: '330681001001',
      status: 'retired',
      ...extra
    }
  ]);
}

export async function enroll(pool: Pool, id: string, scheme = 'ENT', extra: Row = {}): Promise<void> {
  seq += 1;
  await insert(pool, 'enrollments', [
    {
      enrollment_id: `E${seq}`,
      id_number: id,
      scheme_code: scheme,
      status: 'active',
      monthly_amount: '3000.00',
      start_period: '2020-01-01',
      account_no: `A-${id}`,
      ...extra
    }
  ]);
}

/** Monthly paid payments from..to (YYYY-MM inclusive). */
export async function pay(
  pool: Pool,
  id: string,
  from: string,
  to: string,
  amount: string | ((period: string) => string),
  extra: Row = {}
): Promise<void> {
  const rows: Row[] = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    const period = `${y}-${String(m).padStart(2, '0')}-01`;
    seq += 1;
    rows.push({
      payment_id: `P${seq}`,
      id_number: id,
      scheme_code: 'ENT',
      period,
      amount: typeof amount === 'function' ? amount(period) : amount,
      status: 'paid',
      account_no: `A-${id}`,
      paid_at: `${period}T09:00:00+08:00`,
      ...extra
    });
    m += 1;
    if (m === 13) {
      m = 1;
      y += 1;
    }
  }
  await insert(pool, 'payments', rows);
}

export async function evidence(pool: Pool, id: string, date: string, kind: string, source: string, evidenceId?: string): Promise<string> {
  seq += 1;
  const eid = evidenceId ?? `EV${seq}`;
  await insert(pool, 'evidence', [{ evidence_id: eid, id_number: id, source, kind, occurred_at: `${date}T10:00:00+08:00` }]);
  return eid;
}

/**
 * Deliveries through the real ingestion: each call writes one CSV file to the inbox (arrival order = call
 * order) and loads it, as a department delivers a record or its correction.
 */
export function inboxDeliverer(pool: Pool, inbox: string): (feed: string, lines: string[]) => Promise<void> {
  let clock = Date.UTC(2025, 0, 1) / 1000;
  return async (feed, lines) => {
    const dir = path.join(inbox, feed);
    fs.mkdirSync(dir, { recursive: true });
    clock += 60;
    const p = path.join(dir, `${feed}-${clock}.csv`);
    fs.writeFileSync(p, lines.join('\n') + '\n');
    fs.utimesSync(p, clock, clock);
    const s = await ingestInbox(pool, { inbox, log: () => {} });
    if (s.totals.filesLoaded !== 1) throw new Error(`${feed}: expected one file loaded, got ${s.totals.filesLoaded}`);
  };
}
