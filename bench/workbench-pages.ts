// The pages' half of `npm run bench:workbench` (bench/workbench.bench.ts runs it) — the auditors' workbench at city scale
// (issue 15): server time of the queue page with filters (target p95 ≤ 150 ms) and of an alert's
// detail with its full 36-month evidence timeline (target p95 ≤ 300 ms), with 10,000+ open alerts.
//
// The city comes from bench/support.ts (BENCH_SCALE=city by default; BENCH_DIR keeps and reuses it).
// When the engines raised fewer than BENCH_OPEN_ALERTS (default 10,000) open alerts, the bench adds
// alerts of the real rules on real persons (dedup key 'bench:n', amounts and periods of their own
// payments) until there are that many, so the queue is measured at the size the issue names.
// Server time = the same functions the pages' load() calls (dashboard/lib/server/workbench), timed
// in-process against the pool — no HTTP, no rendering.
// Baselines measured in the same run, against which ratios are printed:
//   queue  — one index-ordered page of open alerts by amount (SELECT … WHERE active ORDER BY
//            amount_at_risk DESC LIMIT 50), the cheapest possible page of the same table;
//   detail — the person's payments alone (one index range scan), the cheapest part of the timeline.
// Also printed: a deep page reached by keyset against the same page by OFFSET.
// Results: printed, and written to test-results/bench-workbench.json.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import type { Pool } from '../core/db/pool.ts';
import { cityDatabase, SCALE } from './support.ts';
import { parseFilters, queuePage, type QueueFilters } from '../dashboard/lib/server/workbench/queue.ts';
import { alertDetail } from '../dashboard/lib/server/workbench/detail.ts';
import type { Caller } from '../dashboard/lib/server/scope.ts';

const say = (m: string) => console.log(`[bench:workbench] ${m}`);
const OPEN_ALERTS = Number(process.env.BENCH_OPEN_ALERTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const TARGET_QUEUE_MS = 150;
const TARGET_DETAIL_MS = 300;

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Top the open alerts up to `want` with alerts of real rules on real persons, their own payments as facts. */
async function ensureOpenAlerts(pool: Pool, want: number): Promise<number> {
  const have = (await pool.query(`SELECT count(*)::int AS n FROM alerts WHERE active`)).rows[0].n as number;
  if (have >= want) return have;
  say(`the engines raised ${have} open alerts; adding ${want - have} on real persons for the ${want}-alert queue …`);
  await pool.query(
    `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, periods, evidence, region_code, detected_as_of, last_seen_as_of)
     SELECT (ARRAY['paid_after_death','paid_in_custody','double_receipt','abnormal_amount','no_sign_of_life'])[1 + (n % 5)],
            p.id_number, 'bench:' || n, (ARRAY['critical','high','medium','low'])[1 + (n % 4)],
            COALESCE(x.amount, 0), COALESCE(x.periods, '{}'), jsonb_build_object('payment_ids', COALESCE(x.ids, '{}')),
            COALESCE(p.residence_region, p.hukou_region), current_date, current_date
       FROM (SELECT id_number, residence_region, hukou_region, row_number() OVER (ORDER BY id_number) AS n
               FROM persons WHERE status = 'retired' ORDER BY id_number LIMIT $1) p
       CROSS JOIN LATERAL (SELECT sum(amount) AS amount, array_agg(period ORDER BY period) AS periods, array_agg(payment_id) AS ids
                             FROM (SELECT amount, period, payment_id FROM payments py WHERE py.id_number = p.id_number AND py.status = 'paid'
                                    ORDER BY period DESC LIMIT 1 + (p.n % 6)::int) y) x`,
    [want - have]
  );
  await pool.query('ANALYZE alerts');
  return (await pool.query(`SELECT count(*)::int AS n FROM alerts WHERE active`)).rows[0].n as number;
}

/** Queue and detail server time on the ingested city (BENCH_ONLY=pages runs only this). */
export async function benchPages(): Promise<void> {
  const city = await cityDatabase('workbench', say);
  const pool = city.pool;
  try {
    const open = await ensureOpenAlerts(pool, OPEN_ALERTS);
    const cityRow = (await pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city' LIMIT 1`))
      .rows[0];
    const caller: Caller = { kind: 'staff', name: 'bench-auditor', role: 'auditor', scope: cityRow, privacy: false };
    const district = (await pool.query(`SELECT code FROM region_paths WHERE level = 'district' ORDER BY code LIMIT 1`)).rows[0].code;
    const community = (await pool.query(`SELECT region_code FROM alerts WHERE active GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)).rows[0]
      .region_code;
    const total = (await pool.query(`SELECT count(*)::int AS n FROM alerts`)).rows[0].n;
    say(`${open.toLocaleString('en-US')} open alerts of ${total.toLocaleString('en-US')} (scale ${SCALE})`);

    // ── Queue ──
    const filterSets: Record<string, string> = {
      default: '',
      rule: 'rule=paid_after_death',
      severity_amount: 'severity=high&min=100&max=50000',
      district: `area=${district}`,
      community: `area=${community}&status=all`,
      unassigned_age: 'assignee=-&age=0&sort=amount',
      sla_breached: 'sla=breached',
      sla_reminder_all: 'sla=reminder&status=all',
      all_newest: 'status=all&sort=newest'
    };
    const filters = Object.fromEntries(Object.entries(filterSets).map(([k, v]) => [k, parseFilters(new URLSearchParams(v))])) as Record<
      string,
      QueueFilters
    >;
    // A cursor some pages deep, for the "next page" case.
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) cursor = (await queuePage(pool, caller, filters.default, cursor)).next ?? cursor;
    const queueTimes: Record<string, number[]> = Object.fromEntries(Object.keys(filters).map((k) => [k, []]));
    queueTimes.page21 = [];
    const baselineQueue: number[] = [];
    for (let r = 0; r < RUNS + 3; r++) {
      for (const [k, f] of Object.entries(filters)) {
        const ms = await time(() => queuePage(pool, caller, f, null));
        if (r >= 3) queueTimes[k].push(ms);
      }
      const ms = await time(() => queuePage(pool, caller, filters.default, cursor));
      const base = await time(() =>
        pool.query(
          `SELECT alert_id, rule, status, amount_at_risk FROM alerts WHERE active ORDER BY amount_at_risk DESC, alert_id DESC LIMIT 51`
        )
      );
      if (r >= 3) {
        queueTimes.page21.push(ms);
        baselineQueue.push(base);
      }
    }
    const allQueue = Object.values(queueTimes).flat();
    // Keyset against OFFSET for the same deep page (page 21, by amount).
    const offsetMs: number[] = [];
    const keysetMs: number[] = [];
    const byAmount = parseFilters(new URLSearchParams('sort=amount'));
    let amountCursor: string | null = null;
    for (let i = 0; i < 20; i++) amountCursor = (await queuePage(pool, caller, byAmount, amountCursor)).next ?? amountCursor;
    for (let r = 0; r < 10; r++) {
      offsetMs.push(
        await time(() =>
          pool.query(`SELECT a.alert_id FROM alerts a WHERE a.active ORDER BY a.amount_at_risk DESC, a.alert_id DESC OFFSET 1000 LIMIT 51`)
        )
      );
      keysetMs.push(await time(() => queuePage(pool, caller, byAmount, amountCursor)));
    }

    // ── Detail ──
    // The alerts whose persons hold the most rows in the window: the heaviest timelines.
    const heavy = (
      await pool.query(
        `SELECT a.alert_id::int AS id FROM alerts a
          JOIN LATERAL (SELECT count(*) AS n FROM payments p WHERE p.id_number = a.id_number) x ON true
         WHERE a.active ORDER BY x.n DESC, a.alert_id LIMIT 20`
      )
    ).rows.map((r) => r.id as number);
    const detailTimes: number[] = [];
    const baselineDetail: number[] = [];
    let rows = 0;
    for (let r = 0; r < Math.max(3, Math.ceil(RUNS / 4)) + 1; r++) {
      for (const id of heavy) {
        const t = performance.now();
        const d = await alertDetail(pool, caller, id);
        const ms = performance.now() - t;
        const base = await time(() =>
          pool.query(
            `SELECT payment_id, period, amount FROM payments WHERE id_number = (SELECT id_number FROM alerts WHERE alert_id = $1)`,
            [id]
          )
        );
        if (r > 0) {
          detailTimes.push(ms);
          baselineDetail.push(base);
          rows = Math.max(rows, d.timeline.length);
        }
      }
    }

    const result = {
      scale: SCALE,
      open_alerts: open,
      alerts: total,
      runs: RUNS,
      queue: Object.fromEntries(Object.entries(queueTimes).map(([k, v]) => [k, { p95: p95(v), median: median(v) }])),
      queue_p95: p95(allQueue),
      queue_baseline_p95: p95(baselineQueue),
      queue_ratio: p95(allQueue) / p95(baselineQueue),
      deep_page: { keyset_median: median(keysetMs), offset_median: median(offsetMs) },
      detail_p95: p95(detailTimes),
      detail_median: median(detailTimes),
      detail_max_rows: rows,
      detail_baseline_p95: p95(baselineDetail),
      detail_ratio: p95(detailTimes) / p95(baselineDetail)
    };
    const f = (x: number) => `${x.toFixed(1)} ms`;
    console.log('');
    console.log(`workbench at ${SCALE} scale: ${open.toLocaleString('en-US')} open alerts, ${RUNS} runs per case`);
    for (const [k, v] of Object.entries(result.queue)) console.log(`  queue ${k.padEnd(16)} p95 ${f(v.p95)}  median ${f(v.median)}`);
    console.log(
      `  queue, all cases      p95 ${f(result.queue_p95)}   (target ≤ ${TARGET_QUEUE_MS} ms) ${result.queue_p95 <= TARGET_QUEUE_MS ? 'OK' : 'MISSED'}`
    );
    console.log(`  baseline page         p95 ${f(result.queue_baseline_p95)}   ratio queue/baseline ${result.queue_ratio.toFixed(1)}×`);
    console.log(
      `  deep page (1000 in)   keyset ${f(result.deep_page.keyset_median)}  vs OFFSET (ids only) ${f(result.deep_page.offset_median)}`
    );
    console.log(
      `  detail + timeline     p95 ${f(result.detail_p95)}  median ${f(result.detail_median)}  (up to ${rows} timeline rows; target ≤ ${TARGET_DETAIL_MS} ms) ${result.detail_p95 <= TARGET_DETAIL_MS ? 'OK' : 'MISSED'}`
    );
    console.log(`  baseline payments     p95 ${f(result.detail_baseline_p95)}   ratio detail/baseline ${result.detail_ratio.toFixed(1)}×`);
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-workbench.json'), JSON.stringify(result, null, 2));
  } finally {
    await city.stop();
  }
}
