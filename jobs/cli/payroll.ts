// `yinling payroll …`: the pre-payroll check from the terminal — check (a new frozen run), approve (four
// eyes), runs, diff-runs. The work is done by jobs/engines/payroll-check.ts and core/workflow/payroll.ts,
// which a workbench page calls the same way. A period without a draft is one line and exit 1.
import os from 'node:os';
import type { Config } from '../../core/config.ts';
import { openDatabase } from '../../core/db/connect.ts';
import { HttpError } from '../../core/errors.ts';
import { shanghaiIso } from '../../core/time.ts';
import {
  approveRun,
  comparisonBase,
  diffRuns,
  getRun,
  listRuns,
  parsePeriod,
  periodLabel,
  type PayrollRun,
  type RunDiff
} from '../../core/workflow/payroll.ts';
import { runPayrollCheck } from '../engines/payroll-check.ts';
import { isoDateOption, oneOf, parse, UsageError } from './args.ts';
import type { Command } from './commands.ts';

/** --period YYYY-MM (or YYYYMM) → first day; a bad value is a usage error (exit 2). */
export function periodOption(value: string): string {
  try {
    return parsePeriod(value);
  } catch (e) {
    throw new UsageError(`--period: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function runLine(r: PayrollRun): string {
  const state = r.approved_by
    ? `APPROVED by ${r.approved_by} at ${shanghaiIso(r.approved_at!)}`
    : r.prepared_by
      ? 'waiting for approval'
      : 'prepared by the scheduler (an auditor prepares it again to approve)';
  return (
    `run ${r.run_no}: ${periodLabel(r.period)} version ${r.version}, draft ${r.draft_id}, as of ${r.as_of}, prepared by ${r.prepared_by ?? 'the scheduler'} — ${state}\n` +
    `  draft: ${r.lines} lines, ${r.people} people, ${r.amount} yuan; held: ${r.held_lines} lines, ${r.held_amount} yuan; ` +
    `released: ${r.released_lines} lines, ${r.released_amount} yuan; ${r.findings} findings, ${r.amount_at_risk} yuan at risk`
  );
}

function printDiff(d: RunDiff): void {
  const t = d.totals;
  console.log(
    `diff run ${d.from.run_no}${d.from.approved_by ? ' (approved)' : ''} → run ${d.to.run_no}: held lines ${signed(t.held_lines)} (${signed(t.held_amount)} yuan), ` +
      `released ${signed(t.released_lines)} (${signed(t.released_amount)} yuan), findings ${signed(t.findings)}, draft lines ${signed(t.lines)} (${signed(t.amount)} yuan)`
  );
  if (!d.holds.length) console.log('  the same holds');
  for (const h of d.holds)
    console.log(
      `  ${h.change.padEnd(13)} ${h.id_number} ${h.scheme_code}: ${h.before ? `${h.before.amount} [${h.before.findings.join(',')}]` : '—'} → ${
        h.after ? `${h.after.amount} [${h.after.findings.join(',')}]` : '—'
      }`
    );
}
const signed = (v: number | string) => (String(v).startsWith('-') ? String(v) : `+${v}`);

async function withPool(config: Config, fn: (pool: import('../../core/db/pool.ts').Pool) => Promise<void>): Promise<number> {
  // as the application role, as the web's payroll pages (its check included): a four-eyes workflow, audit-logged
  const db = await openDatabase({ config, migrate: true, as: 'app' });
  try {
    await fn(db.pool);
    return 0;
  } catch (e) {
    if (e instanceof HttpError && e.code === 'bad_period') throw new UsageError(e.message);
    throw e;
  } finally {
    await db.close();
  }
}

export const payrollCommand: Command = {
  summary: 'the pre-payroll check: check a draft (a new frozen run), approve a run (four eyes), list runs, diff two runs',
  usage:
    'check --period YYYY-MM [--as-of YYYY-MM-DD] [--by USER] | approve --run N --by USER | runs [--period YYYY-MM] | diff-runs --run N [--against M]',
  help: [
    'check      checks every line of the current draft of the period as of --as-of (default today, Asia/Shanghai) and',
    '           freezes the result as a new numbered run; --by names the preparer (an auditor or admin). Prints the',
    '           totals, the findings, the diff counts and, when the period has an approved run, the diff to it.',
    'approve    approves a run: --by must be an auditor or admin other than its preparer. Then',
    '           `yinling export payroll-holds --period P` is the hold list for the payroll system.',
    'runs       lists the runs (of one period).',
    'diff-runs  what changed from run M (default: the approved run of its period, else the previous version) to run N.',
    'Exports: payroll-findings, payroll-diff (newest run), payroll-holds (approved run) — `yinling export --help`.'
  ].join('\n'),
  async run(argv, config) {
    const { values, positionals } = parse(
      argv,
      {
        period: { type: 'string' },
        'as-of': { type: 'string' },
        by: { type: 'string' },
        run: { type: 'string' },
        against: { type: 'string' }
      },
      true
    );
    if (positionals.length !== 1) throw new UsageError('say one of: check, approve, runs, diff-runs');
    const sub = oneOf(positionals[0], ['check', 'approve', 'runs', 'diff-runs'] as const, 'action');
    const runNumber = (v: string | boolean | undefined, name: string): number => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n <= 0)
        throw new UsageError(`${name} N is required: a run number (yinling payroll runs)`);
      return n;
    };
    if (sub === 'check') {
      if (values.period === undefined) throw new UsageError('check needs --period YYYY-MM');
      const period = periodOption(String(values.period));
      const asOf = isoDateOption(values['as-of'] as string | undefined, '--as-of');
      return withPool(config, async (pool) => {
        const by = values.by === undefined ? null : String(values.by);
        const r = await runPayrollCheck(pool, {
          period,
          asOf,
          preparedBy: by,
          actor: { type: by ? 'staff' : 'operator', name: by ?? os.userInfo().username },
          trigger: 'manual'
        });
        console.log(runLine(r.run));
        if (!r.findings.length) console.log('  no findings');
        for (const f of r.findings)
          console.log(
            `  ${f.finding.padEnd(16)} ${String(f.findings).padStart(7)} findings, ${f.amount_at_risk} yuan at risk, ${f.held} held`
          );
        console.log(
          `  diff against the paid payments of the month before: ${['new_payee', 'dropped_payee', 'amount_changed'].map((k) => `${k} ${r.diffCounts[k] ?? 0}`).join(', ')}`
        );
        if (r.againstApproved) printDiff(r.againstApproved);
        if (!r.run.prepared_by) console.log('  (no --by: this run informs; to approve, an auditor prepares it with --by USER)');
        else console.log(`  approve: yinling payroll approve --run ${r.run.run_no} --by ANOTHER_AUDITOR`);
      });
    }
    if (sub === 'approve') {
      const runNo = runNumber(values.run, '--run');
      if (!values.by) throw new UsageError('approve needs --by USER (an auditor or admin other than the preparer)');
      return withPool(config, async (pool) => {
        const run = await approveRun(pool, { runNo, by: String(values.by), actor: { type: 'staff', name: String(values.by) } });
        console.log(runLine(run));
        console.log(`  hold list: yinling export payroll-holds --period ${periodLabel(run.period)} --format csv --unmask`);
      });
    }
    if (sub === 'runs') {
      const period = values.period === undefined ? undefined : periodOption(String(values.period));
      return withPool(config, async (pool) => {
        const runs = await listRuns(pool, period);
        if (!runs.length) console.log(period ? `no check runs for ${periodLabel(period)}` : 'no check runs yet');
        for (const r of runs) console.log(runLine(r));
      });
    }
    const runNo = runNumber(values.run, '--run');
    return withPool(config, async (pool) => {
      const to = await getRun(pool, runNo);
      let fromNo: number | null = values.against === undefined ? null : runNumber(values.against, '--against');
      if (fromNo === null) {
        const base = await comparisonBase(pool, to);
        if (base) fromNo = base.run_no;
        else {
          const prev = (await listRuns(pool, to.period)).filter((r) => r.run_no < to.run_no).pop();
          if (!prev)
            throw new HttpError(404, `run ${runNo} is the first check of ${periodLabel(to.period)}: nothing to compare it with`, 'no_base');
          fromNo = prev.run_no;
        }
      }
      printDiff(await diffRuns(pool, fromNo, runNo));
    });
  }
};
