// The payments by month and region that indicator-facts keeps between runs (migration 0036, issue 22):
// a run recomputes only the months that received payment rows since the last run and moves the
// payments of people whose region changed. A month it failed to recompute would keep its old sums —
// so after a correction delivered for a past month, and after a person moves, the facts of the next run
// must show the change, to the cent, and equal what a rebuild from every payment gives.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import type { Pool } from '../core/db/pool.ts';
import { buildIndicatorFacts, runIndicatorFacts } from '../jobs/indicator-facts.ts';
import { refreshRollups } from '../jobs/rollups.ts';

let db: TestDatabase;
let dir: string;
let asOf: string;

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
/** The payment columns of the monthly facts, every month and region. */
const payFacts = () =>
  q(`SELECT to_char(period, 'YYYY-MM') AS period, region_code, payout_amount::text, pension_payout::text, pension_people_paid::int,
            payments_paid::int, payments_failed::int
       FROM ind_region_month ORDER BY period, region_code`);
const cell = async (period: string, region: string) =>
  (
    await q(
      `SELECT payout_amount::text AS paid, pension_people_paid::int AS people FROM ind_region_month WHERE to_char(period, 'YYYY-MM') = $1 AND region_code = $2`,
      [period, region]
    )
  )[0];
/** The same facts rebuilt from every payment (the cache forgotten). */
async function rebuilt() {
  await q('DELETE FROM ind_pay_basis');
  await buildIndicatorFacts(db.pool, asOf);
  return payFacts();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-pay-cache-'));
  const truth = await generateCity({ scale: 'tiny', seed: 4, outDir: path.join(dir, 'city') });
  asOf = truth.asOf;
  db = await freshDatabase();
  await ingestInbox(db.pool, { inbox: path.join(dir, 'city') });
  await q('REFRESH MATERIALIZED VIEW region_paths');
  await buildIndicatorFacts(db.pool, asOf);
}, 600_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('indicator facts: the payments kept between runs', () => {
  it('a correction delivered for a past month changes that month on the next run', async () => {
    // a paid pension of a person with a known region, four months before the as-of month
    const [p] = await q(
      `SELECT p.payment_id, p.id_number, p.scheme_code, to_char(p.period, 'YYYYMM') AS period, p.amount::text AS amount,
              to_char(p.paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS') AS paid_at, p.account_no,
              to_char(p.period, 'YYYY-MM') AS month, COALESCE(pe.residence_region, pe.hukou_region) AS region
         FROM payments p JOIN persons pe USING (id_number) JOIN region_paths rp ON rp.code = COALESCE(pe.residence_region, pe.hukou_region)
        WHERE p.status = 'paid' AND p.paid_at IS NOT NULL
          AND p.period = (date_trunc('month', $1::date) - interval '4 months')::date
        ORDER BY p.payment_id LIMIT 1`,
      [asOf]
    );
    expect(p).toBeTruthy();
    const before = await cell(p.month, p.region);
    const inbox = path.join(dir, 'fix');
    fs.mkdirSync(path.join(inbox, 'payments'), { recursive: true });
    const amount = (Number(p.amount) + 100.25).toFixed(2);
    fs.writeFileSync(
      path.join(inbox, 'payments', 'payments-correction.csv'),
      'payment_id,id_number,scheme_code,period,amount,paid_at,status,account_no\n' +
        `${p.payment_id},${p.id_number},${p.scheme_code},${p.period},${amount},${p.paid_at},paid,${p.account_no ?? ''}\n`
    );
    await ingestInbox(db.pool, { inbox });
    expect((await q(`SELECT amount::text AS a FROM payments WHERE payment_id = $1`, [p.payment_id]))[0].a).toBe(amount);

    await buildIndicatorFacts(db.pool, asOf);
    const after = await cell(p.month, p.region);
    expect((Number(after.paid) - Number(before.paid)).toFixed(2)).toBe('100.25');
    expect(after.people).toBe(before.people);
    const kept = await payFacts();
    expect(await rebuilt()).toEqual(kept);
  });

  it("a person's move takes their past payments to the new region on the next run", async () => {
    const [m] = await q(
      `SELECT pe.id_number, COALESCE(pe.residence_region, pe.hukou_region) AS old_region,
              (SELECT rp2.code FROM region_paths rp2
                WHERE rp2.level = 'community' AND rp2.code <> COALESCE(pe.residence_region, pe.hukou_region)
                  AND EXISTS (SELECT 1 FROM persons x WHERE COALESCE(x.residence_region, x.hukou_region) = rp2.code)
                ORDER BY rp2.code LIMIT 1) AS new_region,
              to_char(max(p.period), 'YYYY-MM') AS month, sum(p.amount) FILTER (WHERE p.period = max_period.m)::text AS paid
         FROM persons pe JOIN payments p USING (id_number)
         CROSS JOIN LATERAL (SELECT max(period) AS m FROM payments x WHERE x.id_number = pe.id_number AND x.period <= $1::date) max_period
        WHERE p.status = 'paid' AND p.period <= $1::date AND pe.residence_region IS NOT NULL
        GROUP BY pe.id_number, pe.residence_region, pe.hukou_region
        ORDER BY pe.id_number LIMIT 1`,
      [asOf]
    );
    expect(m?.new_region).toBeTruthy();
    const [oldBefore, newBefore] = [await cell(m.month, m.old_region), await cell(m.month, m.new_region)];
    await q(`UPDATE persons SET residence_region = $2 WHERE id_number = $1`, [m.id_number, m.new_region]);

    await buildIndicatorFacts(db.pool, asOf);
    const [oldAfter, newAfter] = [await cell(m.month, m.old_region), await cell(m.month, m.new_region)];
    expect((Number(oldBefore.paid) - Number(oldAfter.paid)).toFixed(2)).toBe(Number(m.paid).toFixed(2));
    expect((Number(newAfter.paid) - Number(newBefore?.paid ?? 0)).toFixed(2)).toBe(Number(m.paid).toFixed(2));
    const kept = await payFacts();
    expect(await rebuilt()).toEqual(kept);
  });

  it('every month and region holds the exact payment sums and the distinct people paid a pension', async () => {
    // computed here the plain way (group by person and month, then by region), independently of the
    // engine's single pass; the tiny city has people paid twice in a month (double receipts), so a
    // count of payments instead of people would differ
    const want = await q(
      `WITH pp AS (
         SELECT p.period, p.id_number, COALESCE(max(rp.code), '') AS region_code,
                sum(p.amount) FILTER (WHERE p.status = 'paid') AS paid,
                sum(p.amount) FILTER (WHERE p.status = 'paid' AND s.exclusive_group IS NOT NULL) AS pension,
                count(*) FILTER (WHERE p.status = 'paid') AS n_paid, count(*) FILTER (WHERE p.status IN ('failed', 'returned')) AS n_failed
           FROM payments p LEFT JOIN ref_schemes s USING (scheme_code)
           LEFT JOIN persons pe USING (id_number)
           LEFT JOIN region_paths rp ON rp.code = COALESCE(pe.residence_region, pe.hukou_region)
          GROUP BY 1, 2)
       SELECT to_char(period, 'YYYY-MM') AS period, region_code, COALESCE(sum(paid), 0)::text AS payout_amount,
              COALESCE(sum(pension), 0)::text AS pension_payout, count(pension)::int AS pension_people_paid,
              sum(n_paid)::int AS payments_paid, sum(n_failed)::int AS payments_failed
         FROM pp WHERE period <= date_trunc('month', $1::date) GROUP BY 1, 2`,
      [asOf]
    );
    const doubles = await q(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM payments p JOIN ref_schemes s USING (scheme_code)
        WHERE p.status = 'paid' AND s.exclusive_group IS NOT NULL GROUP BY p.period, p.id_number HAVING count(*) > 1) x`
    );
    expect(doubles[0].n).toBeGreaterThan(0);
    // the facts hold every month and region of the grid; compare those with a payment counted
    const counted = (r: Record<string, unknown>) => Number(r.payments_paid) + Number(r.payments_failed) > 0;
    const got = (await payFacts()).filter(counted);
    const key = (r: Record<string, unknown>) => `${r.period}|${r.region_code}`;
    const norm = (r: Record<string, unknown>) => ({
      ...r,
      payout_amount: Number(r.payout_amount).toFixed(2),
      pension_payout: Number(r.pension_payout).toFixed(2)
    });
    expect(new Map(got.map((r) => [key(r), norm(r)]))).toEqual(new Map(want.filter(counted).map((r) => [key(r), norm(r)])));
  });

  it('every month and region holds the exact subsidy payout (summed from the project facts)', async () => {
    const want = await q(
      `SELECT to_char(s.period, 'YYYY-MM') AS period, COALESCE(rp.code, '') AS region_code, sum(s.amount)::text AS amount
         FROM subsidies s LEFT JOIN persons pe USING (id_number)
         LEFT JOIN region_paths rp ON rp.code = COALESCE(pe.residence_region, pe.hukou_region)
        WHERE s.period <= date_trunc('month', $1::date) AND s.period >= (SELECT min(period) FROM ind_region_month)
        GROUP BY 1, 2`,
      [asOf]
    );
    expect(want.length).toBeGreaterThan(10);
    const got = await q(
      `SELECT to_char(period, 'YYYY-MM') AS period, region_code, subsidy_payout::text AS amount FROM ind_region_month WHERE subsidy_payout <> 0`
    );
    const asMap = (rows: Record<string, unknown>[]) =>
      new Map(rows.map((r) => [`${r.period}|${r.region_code}`, Number(r.amount).toFixed(2)]));
    expect(asMap(got)).toEqual(asMap(want));
  });

  it('the refresh runs beside the facts on a connection of its own, and a run that fails half-way leaves nothing behind', async () => {
    // every client the run checks out: which connection ran the payments' refresh and which the facts,
    // and a failure injected into the facts' transaction once the refresh is under way
    const backends = { payments: new Set<number>(), flows: new Set<number>(), facts: new Set<number>() };
    let fail = true;
    const wrapped = Object.create(db.pool) as Pool;
    const connect = db.pool.connect.bind(db.pool) as (...a: unknown[]) => unknown;
    (wrapped as unknown as { connect: (...a: unknown[]) => unknown }).connect = (...args: unknown[]) =>
      args.length ? connect(...args) : checkOut(); // pool.query checks out with a callback: left as it is
    const checkOut = async () => {
      const c = await db.pool.connect();
      const pid = (c as unknown as { processID: number }).processID;
      const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
      // (the client goes back to the pool wrapped: pool.query calls it later with a callback, passed through)
      (c as unknown as { query: unknown }).query = async (text: string, ...rest: unknown[]) => {
        if (typeof rest[rest.length - 1] === 'function') return query(text, ...rest);
        if (typeof text === 'string' && text.includes('f_pay_region')) backends.payments.add(pid); // the refresh and the flows
        if (typeof text === 'string' && text.includes('INSERT INTO ind_flow_month')) backends.flows.add(pid);
        if (typeof text === 'string' && text.includes('f_now_person')) {
          backends.facts.add(pid);
          if (fail) throw new Error('injected failure');
        }
        return query(text, ...rest);
      };
      return c;
    };
    const failed = await runIndicatorFacts(wrapped, { asOf });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('injected failure');
    expect(backends.payments.size).toBe(1);
    expect([...backends.flows]).toEqual([...backends.payments]);
    expect([...backends.facts].some((pid) => backends.payments.has(pid))).toBe(false);
    // no transaction left open, no lock left held: the next run does the work
    const open = await q(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`
    );
    expect(open[0].n).toBe(0);
    // the flows the other connection handed over for the failed run are left behind (ind_flow_month,
    // migration 0042) until a later run removes them a day on; a run that succeeds removes its own
    const left = await q(`SELECT count(*)::int AS n, count(DISTINCT run_key)::int AS runs FROM ind_flow_month`);
    expect(left[0].n).toBeGreaterThan(0);
    expect(left[0].runs).toBe(1);
    await q(`UPDATE ind_flow_month SET made_at = now() - INTERVAL '25 hours'`);
    fail = false;
    const before = await payFacts();
    const ok = await runIndicatorFacts(wrapped, { asOf });
    expect(ok.status, ok.error).toBe('ok');
    expect(await payFacts()).toEqual(before);
    expect((await q(`SELECT count(*)::int AS n FROM ind_flow_month`))[0].n).toBe(0);
  }, 120_000);

  it('the tables rewritten whole get their indexes back, as the migrations define them, and keep them when a run fails', async () => {
    // ind_person_now (every run) and ind_pay_person (a rebuild) are written without their indexes, which are
    // built again afterwards from the catalogue's own definitions (migration 0041)
    const indexes = async (pool: Pool) =>
      (
        await pool.query(
          `SELECT c.relname AS tbl, i.relname AS idx, pg_get_indexdef(x.indexrelid) AS def, k.conname, pg_get_constraintdef(k.oid) AS condef
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
             LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid
            WHERE c.relname IN ('ind_person_now', 'ind_pay_person') ORDER BY 1, 2`
        )
      ).rows;
    const blank = await freshDatabase();
    const migrated = await indexes(blank.pool);
    await blank.drop();
    expect(migrated.map((r) => r.idx)).toEqual([
      'ind_pay_person_pkey',
      'ind_person_now_list_order',
      'ind_person_now_path',
      'ind_person_now_pkey'
    ]);
    await rebuilt(); // a rebuild of the payments' cache and a run of the facts
    expect(await indexes(db.pool)).toEqual(migrated);
    await buildIndicatorFacts(db.pool, asOf); // a steady run
    expect(await indexes(db.pool)).toEqual(migrated);

    // a run that fails once the indexes were set aside (at the statement putting them back) rolls the
    // drop back with everything else
    // (a client goes back to the pool wrapped: the failure is injected only while failOn is set)
    let failOn: string | null = null;
    for (const needle of ["indexes_put_back('ind_person_now'", "indexes_put_back('ind_pay_person'"]) {
      failOn = needle;
      const wrapped = Object.create(db.pool) as Pool;
      const connect = db.pool.connect.bind(db.pool) as (...a: unknown[]) => unknown;
      (wrapped as unknown as { connect: (...a: unknown[]) => unknown }).connect = (...args: unknown[]) =>
        args.length ? connect(...args) : checkOut();
      const checkOut = async () => {
        const c = await db.pool.connect();
        const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
        (c as unknown as { query: unknown }).query = async (text: string, ...rest: unknown[]) => {
          if (typeof rest[rest.length - 1] === 'function') return query(text, ...rest);
          if (failOn && typeof text === 'string' && text.includes(failOn)) throw new Error('injected failure');
          return query(text, ...rest);
        };
        return c;
      };
      await q('DELETE FROM ind_pay_basis'); // a rebuild, so that ind_pay_person is rewritten too
      const failed = await runIndicatorFacts(wrapped, { asOf });
      expect(failed.status, needle).toBe('failed');
      expect(failed.error).toContain('injected failure');
      expect(await indexes(db.pool)).toEqual(migrated);
    }
    failOn = null;
    const ok = await runIndicatorFacts(db.pool, { asOf });
    expect(ok.status, ok.error).toBe('ok');
    expect(await indexes(db.pool)).toEqual(migrated);
  }, 180_000);

  it('counts the flows on whichever connection is free for them first, to the same facts', async () => {
    const monthly = () => q(`SELECT * FROM ind_region_month ORDER BY period, region_code`);
    await q('DELETE FROM ind_flow_month'); // what the failed runs above left behind
    await buildIndicatorFacts(db.pool, asOf);
    const before = await monthly();
    // the refresh held back before its last statement until the facts' transaction has counted the flows
    // itself (as on a first run, when the refresh reads every payment)
    const counted: { backend: number; flows: boolean }[] = [];
    let flowsCounted!: () => void;
    const byFacts = new Promise<void>((r) => (flowsCounted = r));
    const wrapped = Object.create(db.pool) as Pool;
    const connect = db.pool.connect.bind(db.pool) as (...a: unknown[]) => unknown;
    (wrapped as unknown as { connect: (...a: unknown[]) => unknown }).connect = (...args: unknown[]) =>
      args.length ? connect(...args) : checkOut();
    let holding = true;
    const checkOut = async () => {
      const c = await db.pool.connect();
      const pid = (c as unknown as { processID: number }).processID;
      const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
      (c as unknown as { query: unknown }).query = async (text: string, ...rest: unknown[]) => {
        if (typeof rest[rest.length - 1] === 'function' || typeof text !== 'string' || !holding) return query(text, ...rest);
        if (text.includes('INSERT INTO ind_pay_basis')) await byFacts;
        const r = await query(text, ...rest);
        if (text.includes('INSERT INTO ind_flow_month')) {
          counted.push({ backend: pid, flows: true });
          flowsCounted();
        }
        if (text.includes('f_now_person')) counted.push({ backend: pid, flows: false });
        return r;
      };
      return c;
    };
    await buildIndicatorFacts(wrapped, asOf);
    holding = false;
    const flows = counted.filter((c) => c.flows).map((c) => c.backend);
    const facts = new Set(counted.filter((c) => !c.flows).map((c) => c.backend));
    expect(flows).toHaveLength(1);
    expect(facts.has(flows[0])).toBe(true); // the facts' own connection counted them
    expect(await monthly()).toEqual(before);
    expect((await q(`SELECT count(*)::int AS n FROM ind_flow_month`))[0].n).toBe(0);
  }, 120_000);

  it('is refreshed with the rollups after a load, so that the facts run after it read no payment month again', async () => {
    const expected = await rebuilt();
    // as before a go-live: nothing built yet
    await q('DELETE FROM ind_pay_basis');
    await q('DELETE FROM ind_pay_month');
    await q('DELETE FROM ind_pay_person');
    const noLog = () => {};
    await refreshRollups(db.pool, { runId: 0, job: 'test', asOf: null, log: noLog, count: noLog });
    expect((await q('SELECT count(*)::int AS n FROM ind_pay_basis'))[0].n).toBe(1);
    expect((await q('SELECT count(*)::int AS n FROM ind_pay_month'))[0].n).toBeGreaterThan(0);
    const steps: string[] = [];
    await buildIndicatorFacts(db.pool, asOf, (m) => steps.push(m));
    // the facts' own refresh found no month to recompute (a first run would read every payment)
    expect(steps.find((m) => m.includes('indicator-payments: payment months loaded since'))).toMatch(/— 0 rows/);
    expect(steps.find((m) => m.includes('indicator-payments: payments of the months to compute'))).toMatch(/— 0 rows/);
    expect(await payFacts()).toEqual(expected);
  }, 120_000);
});
