// Export datasets of the pre-payroll check (`yinling export <name> --period YYYY-MM`), stable columns in a
// fixed order, for the payroll system and scripts. Findings and diff come from the newest check run of the
// period, the holds from its approved run (core/workflow/payroll.ts). A period without a draft, without a
// check or (holds) without an approved check is a one-line error before any row is written. ID numbers are
// masked unless --unmask, as in every export.
import type { Dataset } from '../exports.ts';
import { maskIdNumber } from '../../core/domain/masking.ts';
import { HOLDS_EXPORT_COLUMNS, holdsExportSql, requireApprovedRun, requireLatestRun } from '../../core/workflow/payroll.ts';

const id = (v: string | null) => (v === null ? null : maskIdNumber(v));
const LATEST = `(SELECT max(run_no) FROM payroll_runs WHERE period = $1::date)`;
const APPROVED = `(SELECT max(run_no) FROM payroll_runs WHERE period = $1::date AND approved_at IS NOT NULL)`;

export const PAYROLL_DATASETS: Record<string, Dataset> = {
  'payroll-findings': {
    description:
      'pre-payroll check: one row per finding of the newest check run of --period (docs/rules.md codes); held = the finding holds the line',
    sql: `SELECT draft_id, line_id, id_number, scheme_code, amount, finding, amount_at_risk, held
            FROM payroll_run_findings WHERE run_no = ${LATEST}
           ORDER BY draft_id, line_id, finding`,
    columns: ['draft_id', 'line_id', 'id_number', 'scheme_code', 'amount', 'finding', 'amount_at_risk', 'held'],
    personal: { id_number: id },
    takesPeriod: true,
    precheck: async (pool, o) => {
      await requireLatestRun(pool, o.period!);
    }
  },
  'payroll-diff': {
    description: 'pre-payroll check: the draft of --period against the paid payments of the month before (newest check run)',
    sql: `SELECT kind, id_number, scheme_code, previous_amount, draft_amount
            FROM payroll_run_diff WHERE run_no = ${LATEST}
           ORDER BY kind, id_number, scheme_code`,
    columns: ['kind', 'id_number', 'scheme_code', 'previous_amount', 'draft_amount'],
    personal: { id_number: id },
    takesPeriod: true,
    precheck: async (pool, o) => {
      await requireLatestRun(pool, o.period!);
    }
  },
  'payroll-holds': {
    description: 'pre-payroll check: the lines the payroll system must hold for --period, from its approved check run (four eyes)',
    sql: holdsExportSql(APPROVED),
    columns: [...HOLDS_EXPORT_COLUMNS],
    personal: { id_number: id },
    takesPeriod: true,
    precheck: async (pool, o) => {
      await requireApprovedRun(pool, o.period!);
    }
  }
};
