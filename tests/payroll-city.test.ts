// The pre-payroll check on the synthetic city (issue 17.6): generate the tiny and the demo city (demo skipped
// with YINLING_TEST_DEMO=0), ingest them with their payroll draft for the as-of month, check it as of the
// truth's as-of date and compare with seeds/generator/payroll.ts's ground truth: exactly the planted problems
// with their exact amounts at risk and nothing else, the run's totals, and the diff against last month.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity, type GroundTruth } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runPayrollCheck, type PayrollCheckResult } from '../jobs/engines/payroll-check.ts';
import { demoPayrollCheck } from '../jobs/cli/start-log.ts';
import { ensureDemoAccounts } from '../core/demo-accounts.ts';

const scales = (process.env.YINLING_TEST_DEMO === '0' ? ['tiny'] : ['tiny', 'demo']) as ('tiny' | 'demo')[];

describe('the demo start (yinling up) leaves a pre-payroll check waiting for approval', () => {
  it('checks the newest draft, prepared by the demo auditor, not approved', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-payroll-up-'));
    const db = await freshDatabase();
    try {
      const truth = await generateCity({ scale: 'tiny', seed: 1, outDir: dir });
      await ingestInbox(db.pool, { inbox: dir });
      await ensureDemoAccounts(db.pool);
      const lines = await demoPayrollCheck(
        db.pool,
        async (period) =>
          (await runPayrollCheck(db.pool, { period, asOf: truth.asOf, preparedBy: 'demo-auditor', trigger: 'startup' })).run,
        'http://localhost:3000'
      );
      const runs = await db.pool.query(
        `SELECT run_no::int, to_char(period, 'YYYY-MM') AS period, prepared_by, approved_by, held_lines FROM payroll_runs`
      );
      expect(runs.rows).toEqual([
        { run_no: 1, period: truth.payroll.period, prepared_by: 'demo-auditor', approved_by: null, held_lines: expect.any(Number) }
      ]);
      expect(runs.rows[0].held_lines).toBeGreaterThan(0);
      expect(lines).toEqual([
        expect.stringContaining(`Pre-payroll check for ${truth.payroll.period}: run 1 holds ${runs.rows[0].held_lines} of`)
      ]);
      expect(lines[0]).toContain('http://localhost:3000/workbench/payroll');
    } finally {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

for (const scale of scales) {
  describe(`the pre-payroll check on the ${scale} city`, () => {
    let db: TestDatabase;
    let truth: GroundTruth;
    let dir: string;
    let check: PayrollCheckResult;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `yinling-payroll-${scale}-`));
      truth = await generateCity({ scale, seed: 1, outDir: dir });
      db = await freshDatabase();
      await ingestInbox(db.pool, { inbox: dir });
      check = await runPayrollCheck(db.pool, { period: `${truth.payroll.period}-01`, asOf: truth.asOf });
    }, 600_000);
    afterAll(async () => {
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('finds exactly the planted problems with their exact amounts at risk, and nothing else', async () => {
      const r = await db.pool.query(
        `SELECT line_id, id_number, scheme_code, amount::text, finding, amount_at_risk::text, held FROM payroll_run_findings
          WHERE run_no = $1 ORDER BY line_id, finding`,
        [check.run.run_no]
      );
      const want = [...truth.payroll.findings].sort((a, b) => (a.line_id + a.finding < b.line_id + b.finding ? -1 : 1));
      expect(r.rows).toEqual(want);
      const planted = new Set(Object.values(truth.payroll.planted).flat());
      expect(new Set(r.rows.map((x) => x.id_number))).toEqual(planted);
      for (const code of ['dead', 'in_custody', 'suspended', 'not_certified', 'double_receipt', 'abnormal_amount', 'shared_account'])
        expect(
          r.rows.some((x) => x.finding === code),
          code
        ).toBe(true);
    });

    it('freezes the totals of the draft and of the holds', () => {
      expect(check.run).toMatchObject({
        draft_id: truth.payroll.draft_id,
        lines: truth.payroll.lines,
        people: truth.payroll.people,
        amount: truth.payroll.amount,
        held_lines: truth.payroll.held_lines,
        held_amount: truth.payroll.held_amount,
        as_of: truth.asOf,
        version: 1
      });
    });

    it('diffs the draft against the paid payments of the month before', async () => {
      const r = await db.pool.query(
        `SELECT kind, id_number, scheme_code, previous_amount::text, draft_amount::text FROM payroll_run_diff WHERE run_no = $1`,
        [check.run.run_no]
      );
      const of = (kind: string) => r.rows.filter((x) => x.kind === kind);
      const key = (x: { id_number: string; scheme_code: string }) => `${x.id_number}|${x.scheme_code}`;
      expect(
        of('new_payee')
          .map((x) => `${key(x)}|${x.draft_amount}`)
          .sort()
      ).toEqual(truth.payroll.diff.new_payee.map((x) => `${key(x)}|${x.draft_amount}`).sort());
      expect(
        of('amount_changed')
          .map((x) => `${key(x)}|${x.previous_amount}|${x.draft_amount}`)
          .sort()
      ).toEqual(truth.payroll.diff.amount_changed.map((x) => `${key(x)}|${x.previous_amount}|${x.draft_amount}`).sort());
      expect(of('dropped_payee')).toHaveLength(truth.payroll.diff.dropped_payee_count);
    });
  });
}
