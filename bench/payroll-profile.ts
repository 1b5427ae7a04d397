// Step-by-step timings of the pre-payroll check on the benchmark's city (bench/payroll.bench.ts builds it;
// run that first with BENCH_DIR=<dir>, then `BENCH_DIR=<dir> tsx bench/payroll-profile.ts`): every SQL step
// of the certify run as of the day and of sql/engines/payroll-check.sql with its time, on the draft the
// benchmark left (BENCH-CITY). EXPLAIN=1 also prints EXPLAIN ANALYZE of the draft-wide steps' plans
// (the planner's view of the check's temp tables is only known inside its transaction).
import { runPayrollCheck } from '../jobs/engines/payroll-check.ts';
import { cityDatabase } from './support.ts';

const say = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const city = await cityDatabase('payroll', say);
try {
  const period = `${city.asOf.slice(0, 7)}-01`;
  const t = Date.now();
  const r = await runPayrollCheck(city.pool, { period, asOf: city.asOf, log: (m) => /ms$/.test(m) && say(m) });
  say(
    `total ${((Date.now() - t) / 1000).toFixed(1)} s: certify ${r.certify.durationMs} ms, check job ${r.job.durationMs} ms; run ${r.run.run_no}`
  );
} finally {
  await city.stop();
}
