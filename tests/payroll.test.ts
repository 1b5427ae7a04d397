// The pre-payroll check on real PostgreSQL (issue 17): the payroll_draft feed (quarantine with reasons, a
// correction by line_id, a newer draft replacing an older one wholly), one hand-built line per finding with
// its exact amount at risk and nothing on the clean lines, the diff against last month, four-eyes sign-off
// (service and database), frozen approved runs and a later run's diff to the approved one, the exports
// (and the one-line exit 1 for a period without a draft), and the loop: a held line paid anyway raises
// hold_not_honoured, and the amount prevented is the held lines not paid.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, insert, pay, person, pid } from './engines-helpers.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runPayrollCheck } from '../jobs/engines/payroll-check.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';
import { exportDataset } from '../jobs/exports.ts';
import { approveRun, diffRuns, getRun, preventedAmounts, releasedImproper } from '../core/workflow/payroll.ts';
import { createSemanticEngine, type ResultObject } from '../semantic-layer/engine/index.ts';

let db: TestDatabase;
let inbox: string;
const P = '2025-07-01';
const asOf = '2025-06-25';
const ids: Record<string, string> = {};
/** The id with a wrong check character. */
const badCheckChar = (id: string) => id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
const HEADER = 'draft_id,line_id,id_number,scheme_code,period,amount,account_no,bank,prepared_at';

function deliver(name: string, lines: string[]): void {
  fs.mkdirSync(path.join(inbox, 'payroll_draft'), { recursive: true });
  fs.writeFileSync(path.join(inbox, 'payroll_draft', name), [HEADER, ...lines].join('\n') + '\n');
}
const line = (
  draft: string,
  lineId: string,
  id: string,
  scheme: string,
  amount: string,
  account: string,
  prepared = '2025-06-20T09:00:00'
) => `${draft},${lineId},${id},${scheme},2025-07,${amount},${account},工商银行,${prepared}`;

async function exportRows(name: string, period: string, format: 'json' | 'csv' = 'json'): Promise<string> {
  let out = '';
  const sink = new Writable({
    write(chunk, _e, cb) {
      out += chunk.toString();
      cb();
    }
  });
  await exportDataset(db.pool, name, { format, out: sink, unmask: true, period });
  return out;
}

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url, YINLING_APP_DATABASE_URL: db.appUrl },
    timeout: 120_000
  });

beforeAll(async () => {
  db = await freshDatabase();
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-payroll-'));
  const p = db.pool;
  const recent = async (id: string) => {
    await evidence(p, id, '2025-05-02', 'outpatient_visit', 'HEALTH_HIS');
  };
  const standard = async (key: string, birth: string, extra: { enroll?: Record<string, unknown> } = {}) => {
    const id = pid(birth);
    ids[key] = id;
    await person(p, id);
    await enroll(p, id, 'ENT', extra.enroll ?? {});
    await pay(p, id, '2024-07', '2025-06', '3000.00');
    return id;
  };
  for (const k of ['clean', 'dead', 'custody', 'suspended', 'uncertified', 'double', 'abnormal', 'sa1', 'sa2', 'sa3', 'dropped'])
    await standard(k, '1950-03-03', k === 'suspended' ? { enroll: { status: 'suspended', suspended_reason: 'moved_abroad' } } : {});
  for (const k of ['clean', 'suspended', 'double', 'abnormal', 'sa1', 'sa2', 'sa3', 'dropped']) await recent(ids[k]);
  // uncertified: the last strong evidence 2023-01-10 → valid until 2024-01-10, lapsed 2024-01-11, long before 2025-07-01 − 60 days.
  await evidence(p, ids.uncertified, '2023-01-10', 'outpatient_visit', 'HEALTH_HIS');
  await insert(p, 'deaths', [
    { record_id: 'D1', id_number: ids.dead, death_date: '2025-05-10', source: 'civil_affairs', recorded_at: '2025-05-20T10:00:00+08:00' }
  ]);
  await insert(p, 'imprisonments', [
    { record_id: 'C1', id_number: ids.custody, start_date: '2025-03-10', source: 'prison', recorded_at: '2025-03-20T10:00:00+08:00' }
  ]);
  // A new payee from July: enrolled, certified, never paid.
  ids.newcomer = pid('1965-01-05');
  await person(p, ids.newcomer);
  await enroll(p, ids.newcomer, 'ENT', { start_period: '2025-07-01' });
  await recent(ids.newcomer);
  // People for the staff accounts' regions.
  await insert(p, 'regions', [
    { code: '330681', name: '越州市', level: 'city' },
    { code: '330681001', name: '一区', level: 'district', parent_code: '330681' },
    { code: '330681001000', name: '一镇', level: 'town', parent_code: '330681001' },
    { code: '330681001001', name: '一社区', level: 'community', parent_code: '330681001000' }
  ]);
  await p.query(`REFRESH MATERIALIZED VIEW region_paths`);
  await insert(
    p,
    'staff_users',
    ['alice', 'bob', 'carol'].map((u) => ({
      username: u,
      display_name: u,
      role: u === 'carol' ? 'leader' : u === 'bob' ? 'admin' : 'auditor',
      region_code: '330681',
      password_hash: 'x'
    }))
  );
  const A = (k: string) => `ACC-${ids[k].slice(-6)}`;
  deliver('draft-a.csv', [
    line('DR-A', '1', ids.clean, 'ENT', '3000.00', A('clean')),
    line('DR-A', '2', ids.dead, 'ENT', '3000.00', A('dead')),
    line('DR-A', '3', ids.custody, 'ENT', '3000.00', A('custody')),
    line('DR-A', '4', ids.suspended, 'ENT', '3000.00', A('suspended')),
    line('DR-A', '5', ids.uncertified, 'ENT', '3000.00', A('uncertified')),
    line('DR-A', '6', ids.double, 'ENT', '3000.00', A('double')),
    line('DR-A', '7', ids.double, 'RES', '800.00', A('double')),
    line('DR-A', '8', ids.abnormal, 'ENT', '3000.00', A('abnormal')),
    line('DR-A', '9', ids.sa1, 'ENT', '3000.00', 'SHARED-1'),
    line('DR-A', '10', ids.sa2, 'ENT', '3000.00', 'SHARED-1'),
    line('DR-A', '11', ids.sa3, 'ENT', '3000.00', 'SHARED-1'),
    line('DR-A', '12', ids.newcomer, 'ENT', '2500.00', A('newcomer')),
    // bad rows: each quarantined with its reason, the good rows load
    line('DR-A', '13', badCheckChar(ids.clean), 'ENT', '3000.00', 'X'),
    line('DR-A', '14', ids.clean, 'ZZZ', '3000.00', 'X'),
    line('DR-A', '15', ids.clean, 'ENT', '-5.00', 'X'),
    line('DR-A', '16', ids.clean, 'ENT', '3000.00', ''),
    `DR-A,17,${ids.clean},ENT,2025-13,3000.00,X,,2025-06-20T09:00:00`
  ]);
  let s = await ingestInbox(p, { inbox });
  expect(s.byFeed.payroll_draft).toMatchObject({ loaded: 12, quarantined: 5 });
  // A correction: the same draft_id again, line 8 now 4500.00 (an abnormal amount).
  deliver('draft-a-fix.csv', [line('DR-A', '8', ids.abnormal, 'ENT', '4500.00', A('abnormal'), '2025-06-20T15:00:00')]);
  s = await ingestInbox(p, { inbox });
  expect(s.byFeed.payroll_draft).toMatchObject({ replaced: 1 });
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (inbox) fs.rmSync(inbox, { recursive: true, force: true });
});

describe('the payroll_draft feed', () => {
  it('quarantines bad rows with their reasons and loads the good ones', async () => {
    const q = await db.pool.query(`SELECT line_no, reason_code, reason FROM quarantine WHERE feed = 'payroll_draft' ORDER BY line_no`);
    expect(q.rows.map((r) => [r.line_no, r.reason_code])).toEqual([
      [14, 'id_check_char'],
      [15, 'unknown_code'],
      [16, 'negative_money'],
      [17, 'missing_required'],
      [18, 'bad_period']
    ]);
    for (const r of q.rows) expect(r.reason.length).toBeGreaterThan(10);
  });

  it('corrects a line by a later file with the same draft_id and keeps the old version in row_history', async () => {
    const r = await db.pool.query(`SELECT amount::text FROM payroll_draft WHERE draft_id = 'DR-A' AND line_id = '8'`);
    expect(r.rows).toEqual([{ amount: '4500.00' }]);
    const h = await db.pool.query(`SELECT old_row->>'amount' AS amount FROM row_history WHERE feed = 'payroll_draft'`);
    expect(h.rows.map((x) => Number(x.amount))).toEqual([3000]);
  });

  it('loads the same file twice only once', async () => {
    fs.copyFileSync(path.join(inbox, '.done', 'payroll_draft', 'draft-a.csv'), path.join(inbox, 'payroll_draft', 'draft-a-again.csv'));
    const s = await ingestInbox(db.pool, { inbox });
    expect(s.byFeed.payroll_draft?.loaded ?? 0).toBe(0);
    const n = await db.pool.query(`SELECT count(*)::int AS n FROM payroll_draft`);
    expect(n.rows[0].n).toBe(12);
  });
});

describe('the check', () => {
  let runNo = 0;
  beforeAll(async () => {
    const r = await runPayrollCheck(db.pool, { period: P, asOf, preparedBy: 'alice' });
    runNo = r.run.run_no;
  }, 300_000);

  it('finds each planted problem with its exact amount at risk, and nothing on the clean lines', async () => {
    const r = await db.pool.query(
      `SELECT line_id, finding, amount_at_risk::text, held FROM payroll_run_findings WHERE run_no = $1 ORDER BY line_id::int, finding`,
      [runNo]
    );
    expect(r.rows).toEqual([
      { line_id: '2', finding: 'dead', amount_at_risk: '3000.00', held: true },
      { line_id: '3', finding: 'in_custody', amount_at_risk: '3000.00', held: true },
      { line_id: '4', finding: 'suspended', amount_at_risk: '3000.00', held: true },
      { line_id: '5', finding: 'not_certified', amount_at_risk: '3000.00', held: true },
      { line_id: '7', finding: 'double_receipt', amount_at_risk: '800.00', held: true },
      { line_id: '8', finding: 'abnormal_amount', amount_at_risk: '1500.00', held: false },
      { line_id: '9', finding: 'shared_account', amount_at_risk: '3000.00', held: true },
      { line_id: '10', finding: 'shared_account', amount_at_risk: '3000.00', held: true },
      { line_id: '11', finding: 'shared_account', amount_at_risk: '3000.00', held: true }
    ]);
    const run = await getRun(db.pool, runNo);
    expect(run).toMatchObject({
      version: 1,
      draft_id: 'DR-A',
      lines: 12,
      people: 11,
      amount: '34800.00',
      held_lines: 8,
      held_amount: '21800.00',
      released_lines: 4,
      released_amount: '13000.00',
      findings: 9,
      amount_at_risk: '23300.00',
      prepared_by: 'alice',
      approved_by: null
    });
  });

  it('diffs the draft against the paid payments of the month before', async () => {
    const rows = JSON.parse(await exportRows('payroll-diff', P)) as Record<string, string>[];
    const key = (x: Record<string, string>) =>
      `${x.kind}|${x.id_number}|${x.scheme_code}|${x.previous_amount ?? ''}|${x.draft_amount ?? ''}`;
    expect(rows.map(key).sort()).toEqual(
      [
        `new_payee|${ids.double}|RES||800.00`,
        `new_payee|${ids.newcomer}|ENT||2500.00`,
        `dropped_payee|${ids.dropped}|ENT|3000.00|`,
        `amount_changed|${ids.abnormal}|ENT|3000.00|4500.00`
      ].sort()
    );
  });

  it('exports the findings with exactly the documented columns, csv cells neutralised', async () => {
    const csv = await exportRows('payroll-findings', P, 'csv');
    const [head, ...body] = csv.trim().split('\n');
    expect(head).toBe('draft_id,line_id,id_number,scheme_code,amount,finding,amount_at_risk,held');
    expect(body).toHaveLength(9);
    expect(body).toContain(`DR-A,7,${ids.double},RES,800.00,double_receipt,800.00,true`);
  });

  it('refuses self-approval in the service and in the database, and a non-auditor', async () => {
    await expect(approveRun(db.pool, { runNo, by: 'alice' })).rejects.toThrow(/four eyes/);
    await expect(approveRun(db.pool, { runNo, by: 'carol' })).rejects.toThrow(/only an auditor or an admin/);
    await expect(
      db.pool.query(`UPDATE payroll_runs SET approved_by = prepared_by, approved_at = now() WHERE run_no = $1`, [runNo])
    ).rejects.toThrow(/payroll_runs_four_eyes/);
    expect((await getRun(db.pool, runNo)).approved_by).toBeNull();
  });

  it('approves with another auditor; the approved run never changes; a later check shows its diff to it', async () => {
    const approved = await approveRun(db.pool, { runNo, by: 'bob' });
    expect(approved.approved_by).toBe('bob');
    await expect(approveRun(db.pool, { runNo, by: 'bob' })).rejects.toThrow(/already approved/);
    await expect(db.pool.query(`UPDATE payroll_runs SET held_lines = 0 WHERE run_no = $1`, [runNo])).rejects.toThrow(/never changes/);
    await expect(db.pool.query(`DELETE FROM payroll_run_holds WHERE run_no = $1`, [runNo])).rejects.toThrow(/frozen/);
    const holds = JSON.parse(await exportRows('payroll-holds', P)) as Record<string, string>[];
    expect(holds.map((h) => h.line_id).sort()).toEqual(['10', '11', '2', '3', '4', '5', '7', '9']);

    // A newer draft (later prepared_at) replaces the older wholly: no dead person's line, the custody line gone too.
    const A = (k: string) => `ACC-${ids[k].slice(-6)}`;
    deliver('draft-b.csv', [
      line('DR-B', '1', ids.clean, 'ENT', '3000.00', A('clean'), '2025-06-22T09:00:00'),
      line('DR-B', '2', ids.suspended, 'ENT', '3000.00', A('suspended'), '2025-06-22T09:00:00'),
      line('DR-B', '3', ids.double, 'ENT', '3000.00', A('double'), '2025-06-22T09:00:00')
    ]);
    await ingestInbox(db.pool, { inbox });
    const later = await runPayrollCheck(db.pool, { period: P, asOf, preparedBy: 'bob' });
    expect(later.run).toMatchObject({ version: 2, draft_id: 'DR-B', lines: 3, held_lines: 1 });
    expect(later.againstApproved?.from.run_no).toBe(runNo);
    const changes = later.againstApproved!.holds.map((h) => `${h.change}|${h.id_number}|${h.scheme_code}`).sort();
    expect(changes).toEqual(
      [
        `hold_removed|${ids.dead}|ENT`,
        `hold_removed|${ids.custody}|ENT`,
        `hold_removed|${ids.uncertified}|ENT`,
        `hold_removed|${ids.double}|RES`,
        `hold_removed|${ids.sa1}|ENT`,
        `hold_removed|${ids.sa2}|ENT`,
        `hold_removed|${ids.sa3}|ENT`
      ].sort()
    );
    const again = await diffRuns(db.pool, runNo, later.run.run_no);
    expect(again.totals.held_lines).toBe(-7);
    // The approved run is untouched, and its holds are still the ones exported.
    expect(await getRun(db.pool, runNo)).toEqual(approved);
    const holdsAfter = JSON.parse(await exportRows('payroll-holds', P)) as Record<string, string>[];
    expect(holdsAfter).toEqual(holds);
  });

  it('closes the loop: a held line paid anyway raises hold_not_honoured; prevented = held lines not paid', async () => {
    // July's actual payments: the dead person was paid anyway (held), the clean person normally.
    await insert(db.pool, 'payments', [
      {
        payment_id: 'JUL-1',
        id_number: ids.dead,
        scheme_code: 'ENT',
        period: P,
        amount: '3000.00',
        status: 'paid',
        paid_at: '2025-07-18T09:00:00+08:00'
      },
      {
        payment_id: 'JUL-2',
        id_number: ids.clean,
        scheme_code: 'ENT',
        period: P,
        amount: '3000.00',
        status: 'paid',
        paid_at: '2025-07-18T09:00:00+08:00'
      }
    ]);
    const r = await runDetectRisk(db.pool, { asOf: '2025-07-31' });
    expect(r.status, r.error).toBe('ok');
    const a = await db.pool.query(
      `SELECT id_number, severity, status, amount_at_risk::text, evidence FROM alerts WHERE rule = 'hold_not_honoured'`
    );
    expect(a.rows).toHaveLength(1);
    expect(a.rows[0]).toMatchObject({ id_number: ids.dead, severity: 'high', status: 'new', amount_at_risk: '3000.00' });
    expect(a.rows[0].evidence.payment_ids).toEqual(['JUL-1']);
    // Held: 2, 3, 4, 5, 7, 9, 10, 11 = 21800.00; paid anyway: line 2 (3000.00) → 18800.00 prevented.
    expect(await preventedAmounts(db.pool, P)).toEqual({ this_period: '18800.00', to_date: '18800.00' });
    const held = await db.pool.query(
      `SELECT sum(amount)::text AS s FROM payroll_run_holds h WHERE run_no = $1
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id_number = h.id_number AND p.scheme_code = h.scheme_code AND p.period = $2 AND p.status = 'paid')`,
      [runNo, P]
    );
    expect(held.rows[0].s).toBe('18800.00');
    // The semantic layer's measure says the same, this month and to date.
    const engine = createSemanticEngine({
      modelDir: path.join(ROOT, 'semantic-layer', 'model'),
      pool: db.pool,
      apiSecret: 'test',
      log: () => {}
    });
    const ctx = { role: 'auditor', region_code: '330681', region_level: 'city', user: 'alice', kind: 'staff' } as const;
    const month = (await engine.load(
      {
        measures: ['audit_payroll.prevented_amount', 'audit_payroll.held_amount', 'audit_payroll.not_honoured_amount'],
        timeDimensions: [{ dimension: 'audit_payroll.period', dateRange: ['2025-07-01', '2025-07-31'] }]
      },
      ctx
    )) as ResultObject;
    expect(month.data).toEqual([
      {
        'audit_payroll.prevented_amount': '18800.00',
        'audit_payroll.held_amount': '21800.00',
        'audit_payroll.not_honoured_amount': '3000.00'
      }
    ]);
    const toDate = (await engine.load({ measures: ['audit_payroll.prevented_amount'] }, ctx)) as ResultObject;
    expect(toDate.data).toEqual([{ 'audit_payroll.prevented_amount': '18800.00' }]);
  });

  it('counts against the check the lines it released and that were later found improper (per run, and in the cube)', async () => {
    // Nothing yet: July's actual payments so far raised no alert about a released line.
    expect(await releasedImproper(db.pool, runNo)).toEqual({ lines: 0, amount: '0' });
    // The abnormal person's line 8 (4500.00) was flagged for review but released; paid in July, the engines
    // raise abnormal_amount for July — the released line was improper.
    await insert(db.pool, 'payments', [
      {
        payment_id: 'JUL-3',
        id_number: ids.abnormal,
        scheme_code: 'ENT',
        period: P,
        amount: '4500.00',
        status: 'paid',
        paid_at: '2025-07-18T09:00:00+08:00'
      }
    ]);
    const r = await runDetectRisk(db.pool, { asOf: '2025-07-31' });
    expect(r.status, r.error).toBe('ok');
    const alert = await db.pool.query(`SELECT rule FROM alerts WHERE id_number = $1 AND $2::date = ANY (periods)`, [ids.abnormal, P]);
    expect(alert.rows.map((x) => x.rule)).toEqual(['abnormal_amount']);
    expect(await releasedImproper(db.pool, runNo)).toEqual({ lines: 1, amount: '4500.00' });
    const rows = await db.pool.query(`SELECT line_id, rules FROM payroll_release_outcomes WHERE run_no = $1`, [runNo]);
    expect(rows.rows).toEqual([{ line_id: '8', rules: ['abnormal_amount'] }]);
    // The later, unapproved run counts nothing (only approved runs released anything).
    expect(await releasedImproper(db.pool, runNo + 1)).toEqual({ lines: 0, amount: '0' });
    // Next to the prevented amount in the semantic layer; the held measures unchanged.
    const engine = createSemanticEngine({
      modelDir: path.join(ROOT, 'semantic-layer', 'model'),
      pool: db.pool,
      apiSecret: 'test',
      log: () => {}
    });
    const ctx = { role: 'auditor', region_code: '330681', region_level: 'city', user: 'alice', kind: 'staff' } as const;
    const month = (await engine.load(
      {
        measures: [
          'audit_payroll.released_improper_lines',
          'audit_payroll.released_improper_amount',
          'audit_payroll.prevented_amount',
          'audit_payroll.held_lines',
          'audit_payroll.held_amount'
        ],
        timeDimensions: [{ dimension: 'audit_payroll.period', dateRange: ['2025-07-01', '2025-07-31'] }]
      },
      ctx
    )) as ResultObject;
    expect(month.data).toEqual([
      {
        'audit_payroll.released_improper_lines': '1',
        'audit_payroll.released_improper_amount': '4500.00',
        'audit_payroll.prevented_amount': '18800.00',
        'audit_payroll.held_lines': '8',
        'audit_payroll.held_amount': '21800.00'
      }
    ]);
  });
});

describe('yinling payroll and the exports from the terminal', () => {
  it('a period with no draft: one clear line and exit 1, never a stack trace', () => {
    for (const args of [
      ['payroll', 'check', '--period', '2030-01', '--as-of', asOf],
      ['export', 'payroll-findings', '--period', '2030-01', '--format', 'csv'],
      ['export', 'payroll-diff', '--period', '2030-01', '--format', 'json'],
      ['export', 'payroll-holds', '--period', '2030-01', '--format', 'csv']
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ') + r.stderr).toBe(1);
      // one line from the command (an export may say which database it uses before it), no stack trace
      const said = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith(`yinling ${args[0]}:`));
      expect(said, args.join(' ')).toEqual([expect.stringMatching(/^yinling \w+: no payroll draft for 2030-01: /)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });

  it('checks and prints the run, and exports the findings as csv', () => {
    const c = cli(['payroll', 'check', '--period', '2025-07', '--as-of', asOf, '--by', 'alice']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/run \d+: 2025-07 version 3, draft DR-B/);
    expect(c.stdout).toMatch(/diff run \d+ \(approved\) → run \d+/);
    const e = cli(['export', 'payroll-findings', '--period', '2025-07', '--format', 'csv']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout.split('\n')[0]).toBe('draft_id,line_id,id_number,scheme_code,amount,finding,amount_at_risk,held');
    expect(cli(['export', 'payroll-findings', '--format', 'csv']).status).toBe(2);
  });
});

describe('withdrawn records (docs/rules.md "Withdrawn records")', () => {
  it('a withdrawn death or custody record counts for nothing in the check', async () => {
    const has = await db.pool.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name IN ('deaths', 'imprisonments') AND column_name = 'status'`
    );
    if (has.rows[0].n < 2) {
      // A database before the withdrawn-records migration: no status column, every record is valid.
      expect(has.rows[0].n).toBe(0);
      return;
    }
    await db.pool.query(`UPDATE deaths SET status = 'withdrawn' WHERE record_id = 'D1'`);
    await db.pool.query(`UPDATE imprisonments SET status = 'withdrawn' WHERE record_id = 'C1'`);
    const A = (k: string) => `ACC-${ids[k].slice(-6)}`;
    deliver('draft-c.csv', [
      line('DR-C', '1', ids.dead, 'ENT', '3000.00', A('dead'), '2025-06-23T09:00:00'),
      line('DR-C', '2', ids.custody, 'ENT', '3000.00', A('custody'), '2025-06-23T09:00:00')
    ]);
    await ingestInbox(db.pool, { inbox });
    const r = await runPayrollCheck(db.pool, { period: P, asOf });
    const f = await db.pool.query(`SELECT finding FROM payroll_run_findings WHERE run_no = $1 AND finding IN ('dead', 'in_custody')`, [
      r.run.run_no
    ]);
    expect(f.rows).toEqual([]);
  });
});
