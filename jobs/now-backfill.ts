// "Now" snapshots at past month-ends (issue 18.11), for the demo city on its first start: a fresh
// database has one "now" snapshot, so the "now" indicators' sparklines would have one point. For each
// month-end before today (at most BACKFILL_MONTHS, none before the first month with payments) this
// runs the indicator-facts job as of that month-end — the same SQL, no second definition — and keeps
// only what that run computes from dated data; what it reads from today's state (migration 0040 lists
// the columns and why) becomes NULL, "not known", rather than a figure the system never saw. Then one
// run as of today rebuilds the monthly facts and today's lists (a past as-of rebuilds them up to its
// month). Months already done (ind_now_backfill) are skipped, so a start that stopped half-way redoes
// only the rest.
import type { Pool } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { addDays, addMonths } from '../core/domain/certification-rules.ts';
import { writeIndicatorFacts, runIndicatorFacts } from './indicator-facts.ts';

export const BACKFILL_MONTHS = 12;

/** ind_region_now's columns a run as of a past date cannot know (they read today's state): see migration 0040. */
export const NOT_KNOWN_IN_THE_PAST = [
  'insured',
  'cert_valid',
  'certified',
  'certified_silent',
  'field_tasks_open',
  'cert_expired',
  'suspended_not_certified',
  'weak_only',
  'alerts_after_death',
  'alerts_custody',
  'alerts_double',
  'alerts_abnormal',
  'amount_at_risk',
  'recovered_to_date',
  'amount_due',
  'eligible_not_receiving'
] as const;

/** The month-ends before `today` to backfill, oldest first: at most `months`, none before `firstMonth` (YYYY-MM-01). */
export function pastMonthEnds(today: string, firstMonth: string, months = BACKFILL_MONTHS): string[] {
  const thisMonth = today.slice(0, 7) + '-01';
  const out: string[] = [];
  for (let k = months; k >= 1; k--) {
    const month = addMonths(thisMonth, -k);
    if (month < firstMonth) continue;
    out.push(addDays(addMonths(month, 1), -1));
  }
  return out;
}

export async function backfillNowSnapshots(
  pool: Pool,
  opts: { today: string; months?: number; log?: (m: string) => void }
): Promise<{ monthEnds: string[]; ms: number }> {
  const started = Date.now();
  const first = await pool.query(
    `SELECT to_char(min(period), 'YYYY-MM-DD') AS p FROM ind_pay_month WHERE payments_paid + payments_failed > 0`
  );
  if (!first.rows[0].p) return { monthEnds: [], ms: 0 };
  const done = new Set(
    (await pool.query(`SELECT to_char(period, 'YYYY-MM-DD') AS p FROM ind_now_backfill`)).rows.map((r) => r.p as string)
  );
  const todo = pastMonthEnds(opts.today, first.rows[0].p, opts.months).filter((e) => !done.has(e.slice(0, 8) + '01'));
  for (const monthEnd of todo) {
    // one transaction: a start cut off here leaves the month neither half-written nor marked done
    await withTransaction(pool, async (client) => {
      await writeIndicatorFacts(client, monthEnd);
      const period = monthEnd.slice(0, 8) + '01';
      await client.query(
        `UPDATE ind_region_now SET ${NOT_KNOWN_IN_THE_PAST.map((c) => `${c} = NULL`).join(', ')} WHERE period = $1::date`,
        [period]
      );
      await client.query(`INSERT INTO ind_now_backfill (period, as_of) VALUES ($1::date, $2::date) ON CONFLICT (period) DO NOTHING`, [
        period,
        monthEnd
      ]);
    });
    opts.log?.(`"now" snapshot backfilled as of ${monthEnd}`);
  }
  if (todo.length) {
    const r = await runIndicatorFacts(pool, { asOf: opts.today, trigger: 'startup', log: opts.log });
    if (r.status !== 'ok') throw new Error(`indicator-facts as of ${opts.today} after the backfill: ${r.status} ${r.error ?? ''}`);
  }
  return { monthEnds: todo, ms: Date.now() - started };
}
