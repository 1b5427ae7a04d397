// The pre-payroll check reads death and custody records as every engine does (issue 17, migration 0031):
// through deaths_known / imprisonments_known over the as-of views of migration 0022, the definition
// detect-risk reads. A record withdrawn after the check's as-of day still counts for that day (a replay of
// an earlier check finds what it found then); as of a day after the withdrawal it counts for nothing — in
// the check and in detect-risk alike. Records and withdrawals arrive through the ingestion, as a
// department delivers them (the valid version stays in row_history).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, pay, person, pid } from './engines-helpers.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runPayrollCheck } from '../jobs/engines/payroll-check.ts';

let db: TestDatabase;
let inbox: string;
let clock = Date.UTC(2025, 0, 1) / 1000;
const ids: Record<string, string> = {};
const P = '2025-07-01';

async function deliver(feed: string, lines: string[]): Promise<void> {
  const dir = path.join(inbox, feed);
  fs.mkdirSync(dir, { recursive: true });
  clock += 60;
  const p = path.join(dir, `${feed}-${clock}.csv`);
  fs.writeFileSync(p, lines.join('\n') + '\n');
  fs.utimesSync(p, clock, clock);
  const s = await ingestInbox(db.pool, { inbox, log: () => {} });
  expect(s.totals.filesLoaded, `${feed} file loaded`).toBe(1);
}

/** The findings of a check as of `asOf`, per line. */
async function check(asOf: string): Promise<Record<string, string[]>> {
  const r = await runPayrollCheck(db.pool, { period: P, asOf });
  const rows = await db.pool.query(`SELECT line_id, finding FROM payroll_run_findings WHERE run_no = $1 ORDER BY line_id, finding`, [
    r.run.run_no
  ]);
  const out: Record<string, string[]> = {};
  for (const x of rows.rows) (out[x.line_id] ??= []).push(x.finding);
  return out;
}

beforeAll(async () => {
  db = await freshDatabase();
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-payroll-withdrawn-'));
  const p = db.pool;
  for (const [key, birth] of [
    ['dead', '1944-03-03'],
    ['jailed', '1952-07-07']
  ] as const) {
    ids[key] = pid(birth);
    await person(p, ids[key]);
    await enroll(p, ids[key], 'ENT', { monthly_amount: '3125.50' });
    await pay(p, ids[key], '2024-07', '2025-03', '3125.50');
    await evidence(p, ids[key], '2025-02-12', 'hospital_admission', 'HEALTH_HIS');
  }
  await deliver('deaths', [
    'record_id,id_number,death_date,source,recorded_at,status',
    `D-1,${ids.dead},2025-03-05,health,2025-03-20T10:00:00+08:00,`
  ]);
  await deliver('imprisonments', [
    'record_id,id_number,start_date,end_date,source,recorded_at,status',
    `I-1,${ids.jailed},2025-03-10,,prison,2025-03-20T10:00:00+08:00,valid`
  ]);
  await deliver('payroll_draft', [
    'draft_id,line_id,id_number,scheme_code,period,amount,account_no,bank,prepared_at',
    `DR-W,1,${ids.dead},ENT,2025-07,3125.50,ACC-DEAD,工商银行,2025-06-20T09:00:00`,
    `DR-W,2,${ids.jailed},ENT,2025-07,3125.50,ACC-JAIL,工商银行,2025-06-20T09:00:00`
  ]);
  // Both records withdrawn by their departments on 2025-06-28, after the check date 2025-06-25.
  await deliver('deaths', [
    'record_id,id_number,death_date,source,recorded_at,status',
    `D-1,${ids.dead},2025-03-05,health,2025-06-28T10:00:00+08:00,withdrawn`
  ]);
  await deliver('imprisonments', [
    'record_id,id_number,start_date,end_date,source,recorded_at,status',
    `I-1,${ids.jailed},2025-03-10,,prison,2025-06-28T10:00:00+08:00,withdrawn`
  ]);
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (inbox) fs.rmSync(inbox, { recursive: true, force: true });
});

describe('withdrawn records in the pre-payroll check', () => {
  it('as of a day before the withdrawal, the death and the custody still count', async () => {
    const f = await check('2025-06-25');
    expect(f['1'] ?? []).toContain('dead');
    expect(f['2'] ?? []).toContain('in_custody');
    const ev = await db.pool.query(
      `SELECT evidence FROM payroll_run_findings WHERE run_no = (SELECT max(run_no) FROM payroll_runs) AND finding = 'dead'`
    );
    expect(ev.rows[0].evidence).toEqual({ death_record_ids: ['D-1'], death_date: '2025-03-05' });
  }, 300_000);

  it('as of a day after the withdrawal, they count for nothing', async () => {
    const f = await check('2025-06-30');
    expect(f['1'] ?? []).not.toContain('dead');
    expect(f['2'] ?? []).not.toContain('in_custody');
  }, 300_000);

  it('reads the same definition as detect-risk: one function each, no copy of the condition in the check', () => {
    const sql = (name: string) => fs.readFileSync(path.join(ROOT, 'sql', 'engines', `${name}.sql`), 'utf8');
    for (const name of ['payroll-check', 'detect-risk']) {
      const s = sql(name);
      expect(s).toMatch(/deaths_known\(:as_of::date, :as_of_end::timestamptz\)/);
      expect(s).toMatch(/imprisonments_known\(:as_of::date, :as_of_end::timestamptz\)/);
      expect(s).toMatch(/custody_covers_month\(/);
    }
    // the check never reads the record tables themselves
    expect(sql('payroll-check')).not.toMatch(/\b(FROM|JOIN)\s+(deaths|imprisonments)\b/);
  });
});
