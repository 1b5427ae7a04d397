// detect-risk on real PostgreSQL: one hand-built case per rule with its exact amount and periods,
// a clean population with no alert, idempotent re-runs, updates with new evidence, automatic close
// when the basis disappears, the money-at-risk clock, and alerts dated by the as-of of the runs that
// raised and changed them (export --as-of, the "now" facts).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, insert, pay, person, pid } from './engines-helpers.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';
import { runCertify } from '../jobs/engines/certify.ts';
import { exportDataset } from '../jobs/exports.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const asOf = '2025-06-15';
const ids: Record<string, string> = {};

async function alertsOf(id: string) {
  const r = await db.pool.query(
    `SELECT alert_id, rule, dedup_key, status, amount_at_risk, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x) AS periods, evidence, severity, close_reason, disposition
       FROM alerts WHERE id_number = $1 ORDER BY alert_id`,
    [id]
  );
  return r.rows;
}

/** `yinling export alerts --format json [--as-of D]`, unmasked, parsed. */
async function exportAlerts(asOfDate?: string): Promise<Record<string, string | null>[]> {
  let out = '';
  const sink = new Writable({
    write(chunk, _e, cb) {
      out += chunk.toString();
      cb();
    }
  });
  await exportDataset(db.pool, 'alerts', { format: 'json', out: sink, unmask: true, asOf: asOfDate });
  return JSON.parse(out);
}

beforeAll(async () => {
  const p = db.pool;
  // paid_after_death: died 2025-02-10, paid through 2025-05 → 03, 04, 05 at risk.
  ids.pad = pid('1940-05-05');
  await person(p, ids.pad);
  await enroll(p, ids.pad);
  await pay(p, ids.pad, '2024-01', '2025-05', '3000.00');
  await insert(p, 'deaths', [
    { record_id: 'D-PAD', id_number: ids.pad, death_date: '2025-02-10', source: 'civil_affairs', recorded_at: '2025-04-25T10:00:00+08:00' }
  ]);
  // paid_in_custody: 2024-09-10 … 2025-02-20 → Oct, Nov, Dec, Jan wholly inside.
  ids.pic = pid('1958-02-02');
  await person(p, ids.pic);
  await enroll(p, ids.pic);
  await pay(p, ids.pic, '2024-06', '2025-05', '3000.00');
  await insert(p, 'imprisonments', [
    {
      record_id: 'I-PIC',
      id_number: ids.pic,
      start_date: '2024-09-10',
      end_date: '2025-02-20',
      source: 'prison',
      recorded_at: '2024-10-20T10:00:00+08:00'
    }
  ]);
  // double_receipt: ENT 3000 + RES 300.50 for 2025-01…03 → 901.50.
  ids.dr = pid('1955-03-03');
  await person(p, ids.dr);
  await enroll(p, ids.dr);
  await enroll(p, ids.dr, 'RES', { monthly_amount: '300.50' });
  await pay(p, ids.dr, '2024-06', '2025-05', '3000.00');
  await pay(p, ids.dr, '2025-01', '2025-03', '300.50', { scheme_code: 'RES' });
  // abnormal_amount: 3000 a month, 2024-09 paid 4500.25 → excess 1500.25; VET stacking is fine.
  ids.aa = pid('1952-04-04');
  await person(p, ids.aa);
  await enroll(p, ids.aa);
  await pay(p, ids.aa, '2024-01', '2024-12', (per) => (per === '2024-09-01' ? '4500.25' : '3000.00'));
  await pay(p, ids.aa, '2024-01', '2024-12', '500.00', { scheme_code: 'VET' });
  // explained jump: enrollment updated in the payment's month to exactly that amount → no alert.
  ids.aax = pid('1952-04-05');
  await person(p, ids.aax);
  await enroll(p, ids.aax, 'ENT', { monthly_amount: '3900.00', updated_at: '2025-05-03T10:00:00+08:00' });
  await pay(p, ids.aax, '2024-09', '2025-05', (per) => (per === '2025-05-01' ? '3900.00' : '3000.00'));
  // shared_account: three people into one account in 2025-04 and 2025-05 → 2×(3000+2000+1000).
  for (const [k, amt] of [
    ['sa1', '3000.00'],
    ['sa2', '2000.00'],
    ['sa3', '1000.00']
  ] as const) {
    ids[k] = pid('1950-06-0' + k.slice(2));
    await person(p, ids[k]);
    await enroll(p, ids[k]);
    await pay(p, ids[k], '2025-01', '2025-03', amt);
    await pay(p, ids[k], '2025-04', '2025-05', amt, { account_no: 'ACC-SHARED' });
  }
  // a couple sharing one account is not a shared-account case.
  ids.c1 = pid('1950-07-01');
  ids.c2 = pid('1951-07-01', 'F');
  for (const k of ['c1', 'c2']) {
    await person(p, ids[k]);
    await pay(p, ids[k], '2025-01', '2025-05', '2500.00', { account_no: 'ACC-COUPLE' });
  }
  // post_death_activity: died 2025-01-10, bus swipe 2025-02-15 and face login 2025-03-02.
  ids.pda = pid('1938-08-08');
  await person(p, ids.pda);
  await insert(p, 'deaths', [
    { record_id: 'D-PDA', id_number: ids.pda, death_date: '2025-01-10', source: 'health', recorded_at: '2025-01-20T10:00:00+08:00' }
  ]);
  await evidence(p, ids.pda, '2025-01-05', 'outpatient_visit', 'HEALTH_HIS', 'EV-PDA-0');
  await evidence(p, ids.pda, '2025-02-15', 'bus_swipe', 'TRANSIT_CARD', 'EV-PDA-1');
  await evidence(p, ids.pda, '2025-03-02', 'face_login', 'GOV_APP', 'EV-PDA-2');
  // no_sign_of_life: 101 years old, paid 2000 through 2025-05, only weak evidence → 2024-06…2025-05.
  ids.nsol = pid('1924-03-01');
  await person(p, ids.nsol);
  await enroll(p, ids.nsol);
  await pay(p, ids.nsol, '2024-01', '2025-05', '2000.00');
  await evidence(p, ids.nsol, '2025-04-01', 'bus_swipe', 'TRANSIT_CARD');
  await evidence(p, ids.nsol, '2025-04-03', 'phone_topup', 'TELECOM');
  // 100+ with a recent hospital visit: no alert.
  ids.old = pid('1923-01-01');
  await person(p, ids.old);
  await enroll(p, ids.old);
  await pay(p, ids.old, '2024-01', '2025-05', '2000.00');
  await evidence(p, ids.old, '2025-03-01', 'outpatient_visit', 'HEALTH_HIS');
  // clean population: steady payments with the January raise.
  for (let i = 0; i < 30; i++) {
    const id = pid('1955-01-01');
    await person(p, id);
    await enroll(p, id);
    await pay(p, id, '2024-01', '2025-05', (per) => (per >= '2025-01-01' ? '3090.00' : '3000.00'));
  }
});

describe('detect-risk', () => {
  it('finds each rule with its exact amount and periods, and nothing on the clean population', async () => {
    const r = await runDetectRisk(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    expect(await alertsOf(ids.pad)).toMatchObject([
      {
        rule: 'paid_after_death',
        amount_at_risk: '9000.00',
        periods: ['2025-03', '2025-04', '2025-05'],
        severity: 'critical',
        status: 'new'
      }
    ]);
    expect((await alertsOf(ids.pad))[0].evidence.death_record_ids).toEqual(['D-PAD']);
    expect(await alertsOf(ids.pic)).toMatchObject([
      { rule: 'paid_in_custody', amount_at_risk: '12000.00', periods: ['2024-10', '2024-11', '2024-12', '2025-01'] }
    ]);
    expect(await alertsOf(ids.dr)).toMatchObject([
      { rule: 'double_receipt', amount_at_risk: '901.50', periods: ['2025-01', '2025-02', '2025-03'] }
    ]);
    expect(await alertsOf(ids.aa)).toMatchObject([{ rule: 'abnormal_amount', amount_at_risk: '1500.25', periods: ['2024-09'] }]);
    expect(await alertsOf(ids.aax)).toEqual([]);
    const first = [ids.sa1, ids.sa2, ids.sa3].sort()[0];
    const sa = await alertsOf(first);
    expect(sa).toMatchObject([
      { rule: 'shared_account', dedup_key: 'ACC-SHARED', amount_at_risk: '12000.00', periods: ['2025-04', '2025-05'] }
    ]);
    expect(sa[0].evidence.persons).toEqual([ids.sa1, ids.sa2, ids.sa3].sort());
    for (const k of ['sa1', 'sa2', 'sa3']) if (ids[k] !== first) expect(await alertsOf(ids[k])).toEqual([]);
    expect(await alertsOf(ids.c1)).toEqual([]);
    const pda = await alertsOf(ids.pda);
    expect(pda).toMatchObject([{ rule: 'post_death_activity', amount_at_risk: '0.00', periods: ['2025-02', '2025-03'] }]);
    expect(pda[0].evidence.evidence_ids).toEqual(['EV-PDA-1', 'EV-PDA-2']);
    expect(await alertsOf(ids.nsol)).toMatchObject([{ rule: 'no_sign_of_life', amount_at_risk: '24000.00' }]);
    expect((await alertsOf(ids.nsol))[0].periods).toHaveLength(12);
    expect(await alertsOf(ids.old)).toEqual([]);
    const total = await db.pool.query(`SELECT count(*)::int AS n FROM alerts`);
    expect(total.rows[0].n).toBe(7);
    const tr = await db.pool.query(
      `SELECT count(*)::int AS n FROM alert_transitions WHERE actor = 'system' AND to_status = 'new' AND from_status IS NULL`
    );
    expect(tr.rows[0].n).toBe(7);
  });

  it('exports the alerts of a past as-of with that --as-of, whatever the day of the run (issue 14.6)', async () => {
    // The run above was as of 2025-06-15 but ran today: opened_at is today, the alert's as-of dates
    // are the run's, and the export as of 2025-06-15 lists every alert that run raised.
    const raised = (await db.pool.query(`SELECT alert_id::text FROM alerts ORDER BY alert_id`)).rows.map((x) => x.alert_id);
    expect(raised).toHaveLength(7);
    const got = await exportAlerts(asOf);
    expect(got.map((x) => x.alert_id)).toEqual(raised);
    for (const x of got) {
      expect(x).toMatchObject({ detected_as_of: asOf, last_seen_as_of: asOf });
      expect(Date.parse(x.opened_at!)).toBeGreaterThan(Date.parse(`${asOf}T23:59:59+08:00`)); // the real time stays
    }
    // Not raised as of the day before; everything without --as-of.
    expect(await exportAlerts('2025-06-14')).toEqual([]);
    expect((await exportAlerts()).map((x) => x.alert_id)).toEqual(raised);
  });

  it('creates no duplicates and no transitions when re-run on the same data', async () => {
    const before = await db.pool.query(`SELECT (SELECT count(*) FROM alerts) a, (SELECT count(*) FROM alert_transitions) t`);
    const r = await runDetectRisk(db.pool, { asOf, mode: 'full' });
    expect(r.counts.extra).toMatchObject({ alerts_opened: 0, alerts_updated: 0, alerts_closed: 0 });
    const after = await db.pool.query(`SELECT (SELECT count(*) FROM alerts) a, (SELECT count(*) FROM alert_transitions) t`);
    expect(after.rows[0]).toEqual(before.rows[0]);
    // Payment screens rebuilt from scratch instead of merged: the same findings.
    const rebuilt = await runDetectRisk(db.pool, { asOf, mode: 'full', rebuildScreens: true });
    expect(rebuilt.counts.extra).toMatchObject({ screens_rebuilt: true, alerts_opened: 0, alerts_updated: 0, alerts_closed: 0 });
  });

  it('updates the open alert with new evidence (incremental run, system transition)', async () => {
    await pay(db.pool, ids.pad, '2025-06', '2025-06', '3000.00');
    const r = await runDetectRisk(db.pool, { asOf });
    expect(r.counts.extra).toMatchObject({ mode: 'incremental', alerts_updated: 1, alerts_opened: 0 });
    const [a] = await alertsOf(ids.pad);
    expect(a).toMatchObject({ amount_at_risk: '12000.00', periods: ['2025-03', '2025-04', '2025-05', '2025-06'], status: 'new' });
    const t = await db.pool.query(
      `SELECT from_status, to_status, actor, reason FROM alert_transitions WHERE alert_id = $1 ORDER BY transition_id`,
      [a.alert_id]
    );
    expect(t.rows[1]).toMatchObject({ from_status: 'new', to_status: 'new', actor: 'system' });
    expect(t.rows[1].reason).toMatch(/9000\.00 → 12000\.00/);
  });

  it('closes an alert whose basis disappeared, and does not re-raise a confirmed one', async () => {
    await db.pool.query(`DELETE FROM deaths WHERE record_id = 'D-PDA'`);
    // confirmed improper: the lifecycle's steps up to approved (the database refuses a jump)
    for (const s of ['investigating', 'proposed', 'approved']) {
      // approving is a four-eyes step: a proposal a second person approved (migration 0025)
      if (s === 'approved')
        await db.pool.query(
          `INSERT INTO alert_proposals (alert_id, action, target_status, disposition, reason, snapshot, alert_version, made_by, made_role,
                                        state, checked_by, checked_role, checked_at)
           SELECT alert_id, 'recovery', 'approved', 'duplicate_receipt', 'test', '{}', version, 'maker', 'auditor', 'approved', 'checker', 'auditor', now()
             FROM alerts WHERE id_number = $1`,
          [ids.dr]
        );
      await db.pool.query(`UPDATE alerts SET status = $2 WHERE id_number = $1`, [ids.dr, s]);
    }
    const r = await runDetectRisk(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const [a] = await alertsOf(ids.pda);
    expect(a).toMatchObject({ status: 'closed', disposition: 'basis_disappeared' });
    expect(a.close_reason).toBe('basis_disappeared: the death record was withdrawn');
    expect(await alertsOf(ids.dr)).toHaveLength(1);
    const t = await db.pool.query(
      `SELECT to_status, actor FROM alert_transitions WHERE alert_id = $1 ORDER BY transition_id DESC LIMIT 1`,
      [a.alert_id]
    );
    expect(t.rows[0]).toEqual({ to_status: 'closed', actor: 'system' });
  });

  it('runs the money-at-risk clock per record and the lag per source', async () => {
    const c = await db.pool.query(`SELECT * FROM risk_clock WHERE record_id IN ('D-PAD', 'I-PIC') ORDER BY record_id`);
    expect(c.rows).toMatchObject([
      {
        record_id: 'D-PAD',
        event_kind: 'death',
        days_to_record: 74,
        stop_period: null,
        amount_paid: '12000.00',
        // died 2025-02-10, recorded 2025-04-25: March's and April's payments (paid on the 1st) went out
        // before the record arrived — the recording lag's cost shown beside R05
        amount_before_record: '6000.00',
        periods_paid: 4,
        stopped_timely: false,
        days_running: 125
      },
      {
        record_id: 'I-PIC',
        event_kind: 'custody',
        first_due_period: '2024-10-01',
        days_to_record: 40,
        stop_period: null,
        amount_paid: '12000.00',
        periods_paid: 4
      }
    ]);
    const l = await db.pool.query(`SELECT event_kind, source, records, median_days FROM risk_source_lags ORDER BY 1, 2`);
    expect(l.rows).toContainEqual({ event_kind: 'death', source: 'civil_affairs', records: 1, median_days: '74.0' });
  });

  it('dates what a later run raises and changes by its as-of; an earlier as-of keeps to what was raised by then', async () => {
    const later = '2025-07-15';
    // Died 2025-05-20, recorded only on 2025-07-02: unknown as of 2025-06-15, an alert as of 2025-07-15.
    ids.late = pid('1945-09-09');
    await person(db.pool, ids.late);
    await enroll(db.pool, ids.late);
    await pay(db.pool, ids.late, '2025-01', '2025-07', '3000.00');
    await insert(db.pool, 'deaths', [
      {
        record_id: 'D-LATE',
        id_number: ids.late,
        death_date: '2025-05-20',
        source: 'civil_affairs',
        recorded_at: '2025-07-02T10:00:00+08:00'
      }
    ]);
    const earlier = (await db.pool.query(`SELECT alert_id::text FROM alerts ORDER BY alert_id`)).rows.map((x) => x.alert_id);
    const r = await runDetectRisk(db.pool, { asOf: later, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const dates = async (id: string) =>
      (
        await db.pool.query(
          `SELECT alert_id::text, status, run_id, last_seen_run, to_char(detected_as_of, 'YYYY-MM-DD') AS detected, to_char(last_seen_as_of, 'YYYY-MM-DD') AS seen
         FROM alerts WHERE id_number = $1 ORDER BY alert_id`,
          [id]
        )
      ).rows;
    const [late] = await dates(ids.late);
    expect(late).toMatchObject({ status: 'new', run_id: String(r.runId), detected: later, seen: later });
    // No sign of life: not paid in June, so closed by this run — raised as of 2025-06-15, last changed as of 2025-07-15.
    expect(await dates(ids.nsol)).toMatchObject([{ status: 'closed', last_seen_run: String(r.runId), detected: asOf, seen: later }]);
    // Untouched by this run: as they were.
    expect(await dates(ids.pic)).toMatchObject([{ detected: asOf, seen: asOf }]);
    // The export as of 2025-06-15 is what was raised by then; as of 2025-07-15 the new alert too.
    expect((await exportAlerts(asOf)).map((x) => x.alert_id)).toEqual(earlier);
    expect((await exportAlerts(later)).map((x) => x.alert_id)).toEqual([...earlier, late.alert_id]);
    // The "now" facts count the alerts raised by their as-of: as of June only the first paid-after-death alert.
    const r01 = async (d: string) => {
      expect((await runCertify(db.pool, { asOf: d })).status).toBe('ok'); // the facts' "now" per person needs it
      await buildIndicatorFacts(db.pool, d);
      return (
        await db.pool.query(`SELECT sum(alerts_after_death)::int AS n FROM ind_region_now WHERE period = date_trunc('month', $1::date)`, [
          d
        ])
      ).rows[0].n;
    };
    expect(await r01(asOf)).toBe(1);
    expect(await r01(later)).toBe(2);
  });
});
