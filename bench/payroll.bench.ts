// Pre-payroll check benchmark (`npm run bench:payroll` = `tsx bench/payroll.bench.ts`, issue 17): at city
// scale (≈ 330,000 recipients, 36 months of payments) the check of a city-scale draft — every `paid`
// payment of the last month as a draft line of the as-of month (≈ 330,000+ lines), diff included — as the
// scheduler runs it: after the nightly engines, as of the same day (the certify engine's state is then
// current and its run incremental). Printed next to a baseline measured in the same run: a plain scan
// of the check's inputs (the draft, the payments of the look-back months, enrollments, deaths, custody,
// cert_status). Target: ≤ 30 s on the 2-core development machine.
//
// Data: bench/support.ts cityDatabase (the city of .cache/bench, ingested and run through the engines;
// BENCH_DIR keeps and reuses it, BENCH_SCALE=demo|tiny makes a quick run). Results: printed, and
// written to .cache/bench/payroll-result[-<scale>].json.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import type { Pool } from '../core/db/pool.ts';
import { addMonths } from '../core/domain/certification-rules.ts';
import { runPayrollCheck } from '../jobs/engines/payroll-check.ts';
import { SCALE, cityDatabase } from './support.ts';

const TARGET_MS = 30_000;
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const r = await fn();
  return [r, Date.now() - t];
}

/** The baseline: read every row the check reads, once, with nothing computed. */
async function baseline(pool: Pool, period: string): Promise<number> {
  const [, ms] = await timed(async () => {
    await pool.query(`SELECT count(*), sum(amount) FROM payroll_draft WHERE period = $1`, [period]);
    await pool.query(`SELECT count(*), sum(amount) FROM payments WHERE period >= $1 AND period < $2`, [addMonths(period, -7), period]);
    for (const t of ['enrollments', 'deaths', 'imprisonments', 'cert_status']) await pool.query(`SELECT count(*) FROM ${t}`);
  });
  return ms;
}

async function main(): Promise<void> {
  const city = await cityDatabase('payroll', log);
  const pool = city.pool;
  try {
    const period = `${city.asOf.slice(0, 7)}-01`;
    const last = addMonths(period, -1);
    // The city-scale draft: last month's paid payments as the draft of the as-of month, prepared after the
    // generated draft so it is the current one (replaced on every run).
    await pool.query(`DELETE FROM payroll_draft WHERE draft_id = 'BENCH-CITY'`);
    const ins = await pool.query(
      `INSERT INTO payroll_draft (draft_id, line_id, id_number, scheme_code, period, amount, account_no, bank, prepared_at)
       SELECT 'BENCH-CITY', payment_id, id_number, scheme_code, $1::date, amount, account_no, '工商银行', now()
         FROM payments WHERE period = $2::date AND status = 'paid' AND account_no IS NOT NULL`,
      [period, last]
    );
    await pool.query(`ANALYZE payroll_draft`);
    const lines = ins.rowCount ?? 0;
    log(`draft BENCH-CITY: ${lines.toLocaleString('en-US')} lines for ${period.slice(0, 7)}`);
    const base = await baseline(pool, period);
    log(`baseline (plain scan of the inputs): ${(base / 1000).toFixed(1)} s`);
    const results: Record<string, unknown>[] = [];
    for (const label of ['first check', 'second check']) {
      const [r, ms] = await timed(() => runPayrollCheck(pool, { period, asOf: city.asOf, log: () => {} }));
      const out = {
        run: label,
        run_no: r.run.run_no,
        lines: r.run.lines,
        findings: r.run.findings,
        held_lines: r.run.held_lines,
        diff: r.diffCounts,
        seconds: ms / 1000,
        certify_seconds: r.certify.durationMs / 1000,
        check_seconds: r.job.durationMs / 1000,
        vs_baseline: Number((ms / base).toFixed(1)),
        within_target: ms <= TARGET_MS
      };
      results.push(out);
      log(
        `${label}: ${out.seconds.toFixed(1)} s (certify as of ${city.asOf} ${out.certify_seconds.toFixed(1)} s, check ${out.check_seconds.toFixed(1)} s) — ` +
          `${out.vs_baseline}× the baseline; ${out.findings} findings, ${out.held_lines} held; target ≤ 30 s: ${out.within_target ? 'met' : 'NOT met'}`
      );
    }
    const file = path.join(ROOT, '.cache', 'bench', `payroll-result${SCALE === 'city' ? '' : `-${SCALE}`}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ scale: SCALE, as_of: city.asOf, lines, baseline_seconds: base / 1000, results }, null, 2));
    log(`written to ${path.relative(ROOT, file)}`);
  } finally {
    await city.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
