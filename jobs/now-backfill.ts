// "Now" snapshots at past month-ends (issue 18.11), for the demo city: a fresh database has one "now"
// snapshot, so the "now" indicators' sparklines would have one point. For each month-end before today
// (at most BACKFILL_MONTHS, none before the first month with payments, none the system ran through):
//  1. replay: in one transaction that is rolled back whatever happens, the engines whose state the "now"
//     columns read (certify, detect-risk, match-subsidies) run as of that month-end, then the
//     indicator-facts job as of it — the same SQL as every run, no second definition — and the month's
//     ind_region_now rows are read;
//  2. in a small transaction of its own, those rows are written, with NULL ("not known") in the columns
//     no replay can know (NOT_KNOWN_IN_THE_PAST), and the month is marked done (ind_now_backfill).
// The monthly facts, today's lists and every engine table are touched only inside the rolled-back
// replay, so the screen reads today's figures throughout and the backfill can run while it is up (`up`
// runs it in the background: about ten seconds a month at demo scale). A start stopped half-way leaves
// the months not written for the next one.
import type { Pool } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { addDays, addMonths } from '../core/domain/certification-rules.ts';
import { writeIndicatorFacts } from './indicator-facts.ts';
import { engineRunInTransaction, type EngineRun } from './engines/context.ts';
import { certifyBody } from './engines/certify.ts';
import { detectRiskBody } from './engines/detect-risk.ts';
import { matchSubsidiesBody } from './engines/match-subsidies.ts';

export const BACKFILL_MONTHS = 12;

/**
 * ind_region_now's columns that read the engines' state (migration 0040): a run of the facts as of a past
 * date alone would give today's figures, so each past month-end first replays the engines that write that
 * state, as of the month-end (REPLAYED_ENGINES), takes the facts run after them, and rolls the replay
 * back. The engines read dated data as of the month-end: deaths and custody from their
 * recorded_at on (withdrawals too), certifications and evidence by their certified_at / occurred_at (the
 * evidence feeds carry no arrival time: one delivered late counts from when it happened), payments and
 * subsidy payouts by period and paid_at, hardship by since/until, staff visits by their visited_on.
 */
export const REPLAYED_IN_THE_PAST = [
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
  'eligible_not_receiving'
] as const;

/**
 * What stays NULL, "not known", in a backfilled month — no replay can know it honestly:
 * - insured (the support ratio): the registry keeps each person's current status only (insured/retired),
 *   with no date for a change from one to the other; a past month would count today's registry;
 * - recovered_to_date, amount_due: they follow people's decisions in the workbench (an alert decided as
 *   an improper loss, the recoveries booked against it), which an engine replay does not redo — a past
 *   month would show the decisions taken since, or none.
 */
export const NOT_KNOWN_IN_THE_PAST = ['insured', 'recovered_to_date', 'amount_due'] as const;

/** The engines whose state those columns read, in the order `all` runs them: certify (cert_status,
 * cert_events, field tasks), detect-risk (alerts, the money-at-risk clock), match-subsidies (matches). */
export const REPLAYED_ENGINES: [string, (run: EngineRun) => Promise<unknown>][] = [
  ['certify', certifyBody],
  ['detect-risk', detectRiskBody],
  ['match-subsidies', matchSubsidiesBody]
];

/** The advisory locks a replay holds (keys hashtext('yinling:' || name)), taken in this order before its
 * snapshot: the jobs' own (jobs/runner.ts) and the payments cache's, which the refresh-rollups job takes
 * after every load (sql/engines/indicator-payments.sql) — a refresh committed after the replay's snapshot
 * would make the replay's own refresh fail to serialize. Sorted, so two lockers never wait on each other. */
const REPLAY_LOCKS = [...REPLAYED_ENGINES.map(([name]) => name), 'indicator-facts', 'indicator-payments'].sort();

/** SQLSTATEs a month's replay is tried again on: a workbench decision or a staff visit committed on a
 * row the replay also changes (serialization_failure), or a deadlock with one. */
const TRY_AGAIN = new Set(['40001', '40P01']);
const TRIES = 3;

/**
 * The engines replayed as of `monthEnd` on the data as it is, then the facts as of it, in one transaction
 * that is rolled back whatever happens: no alert, transition, task, cert event, job run or audit row of the
 * replay stays. Returns the month's ind_region_now rows as that run computed them (a JSON array).
 */
export async function replayNowAsOf(pool: Pool, monthEnd: string, log?: (m: string) => void): Promise<{ json: string; areas: number }> {
  const client = await pool.connect();
  let lost: Error | undefined;
  let locked = false;
  try {
    // taken before the snapshot: a replay waits for a run of these jobs (or a refresh of the payments
    // cache) in progress and sees what it wrote; a run that finds a lock taken by a replay is recorded as
    // skipped, as when it overlaps itself, and a refresh waits for the replay
    locked = true;
    for (const key of REPLAY_LOCKS) await client.query(`SELECT pg_advisory_lock(hashtext('yinling:' || $1))`, [key]);
    // one snapshot for the whole replay, as each engine run takes one
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    for (const [name, body] of REPLAYED_ENGINES) await body(await engineRunInTransaction(client, name, monthEnd, log));
    await writeIndicatorFacts(client, monthEnd, log);
    // as JSON text: exact numerics and plain dates, for jsonb_populate_recordset on the way back
    const r = await client.query(
      `SELECT COALESCE(jsonb_agg(to_jsonb(n)), '[]')::text AS rows, count(*)::int AS n FROM ind_region_now n WHERE period = $1::date`,
      [monthEnd.slice(0, 8) + '01']
    );
    return { json: r.rows[0].rows as string, areas: r.rows[0].n as number };
  } finally {
    lost = await client.query('ROLLBACK').then(
      () => undefined,
      (e: Error) => e
    );
    if (locked && !lost)
      lost = await client.query(`SELECT pg_advisory_unlock_all()`).then(
        () => undefined,
        (e: Error) => e
      );
    client.release(lost);
  }
}

/** The SQLSTATE of a database error, also when wrapped (runSqlFile names the step and keeps it as the cause). */
function sqlState(e: unknown): string {
  for (let x = e; x && typeof x === 'object'; x = (x as { cause?: unknown }).cause) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

/** replayNowAsOf, tried again (up to TRIES times) when it lost a race with a change committed beside it. */
async function replayWithRetry(pool: Pool, monthEnd: string, log?: (m: string) => void): ReturnType<typeof replayNowAsOf> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await replayNowAsOf(pool, monthEnd);
    } catch (e) {
      if (attempt >= TRIES || !TRY_AGAIN.has(sqlState(e))) throw e;
      log?.(`"now" snapshot as of ${monthEnd}: ${(e as Error).message} — trying the month again`);
    }
  }
}

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

/** The past month-ends the backfill has still to fill in, oldest first (none when there are no payments yet). */
export async function pendingMonthEnds(pool: Pool, today: string, months = BACKFILL_MONTHS): Promise<string[]> {
  const first = await pool.query(
    `SELECT to_char(min(period), 'YYYY-MM-DD') AS p FROM ind_pay_month WHERE payments_paid + payments_failed > 0`
  );
  if (!first.rows[0].p) return [];
  const skip = new Set(
    (
      await pool.query(
        `SELECT to_char(period, 'YYYY-MM-DD') AS p FROM ind_now_backfill UNION SELECT DISTINCT to_char(period, 'YYYY-MM-DD') FROM ind_region_now`
      )
    ).rows.map((r) => r.p as string)
  );
  return pastMonthEnds(today, first.rows[0].p, months).filter((e) => !skip.has(e.slice(0, 8) + '01'));
}

/**
 * Fill in the past month-ends not done yet, oldest first; `signal` stops it between months (a month is
 * written whole or not at all, so the next start goes on from there). A month that already holds a
 * snapshot it did not write (the system ran then) is left alone: that one was seen, not replayed.
 */
export async function backfillNowSnapshots(
  pool: Pool,
  opts: { today: string; months?: number; log?: (m: string) => void; signal?: AbortSignal }
): Promise<{ monthEnds: string[]; ms: number }> {
  const started = Date.now();
  const todo = await pendingMonthEnds(pool, opts.today, opts.months);
  const done: string[] = [];
  for (const monthEnd of todo) {
    if (opts.signal?.aborted) break;
    const t0 = Date.now();
    const period = monthEnd.slice(0, 8) + '01';
    const replayed = await replayWithRetry(pool, monthEnd, opts.log);
    // one transaction: a start cut off here leaves the month neither half-written nor marked done. Only
    // the month's rows of ind_region_now are written: the monthly facts and today's lists are never
    // touched outside the rolled-back replay, so the screen reads today's figures throughout.
    await withTransaction(pool, async (client) => {
      await client.query(`DELETE FROM ind_region_now WHERE period = $1::date`, [period]);
      await client.query(
        `INSERT INTO ind_region_now SELECT r.* FROM jsonb_populate_recordset(NULL::ind_region_now, $2::jsonb) r WHERE r.period = $1::date`,
        [period, replayed.json]
      );
      await client.query(
        `UPDATE ind_region_now SET ${NOT_KNOWN_IN_THE_PAST.map((c) => `${c} = NULL`).join(', ')} WHERE period = $1::date`,
        [period]
      );
      await client.query(`INSERT INTO ind_now_backfill (period, as_of) VALUES ($1::date, $2::date) ON CONFLICT (period) DO NOTHING`, [
        period,
        monthEnd
      ]);
    });
    done.push(monthEnd);
    opts.log?.(`"now" snapshot as of ${monthEnd}: engines replayed and rolled back, ${replayed.areas} area rows (${Date.now() - t0} ms)`);
  }
  return { monthEnds: done, ms: Date.now() - started };
}
