// match-subsidies, remind-retirement, assign-community, after-death and reportDeath on real
// PostgreSQL with hand-built rows; the SQL retirement arithmetic against the pure function for every
// birth month 1960–1990; rules read from ref_rules (a changed number needs no code change).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, insert, pay, person, pid } from './engines-helpers.ts';
import { runMatchSubsidies } from '../jobs/engines/match-subsidies.ts';
import { runRemindRetirement } from '../jobs/engines/remind-retirement.ts';
import { runAssignCommunity } from '../jobs/engines/assign-community.ts';
import { runAfterDeath } from '../jobs/engines/after-death.ts';
import { reportDeath } from '../core/workflow/death-reports.ts';
import { runAllEngines, ENGINE_DATASETS } from '../jobs/engines/index.ts';
import { retirementMonth } from '../core/domain/retirement-age.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';
import { exportDataset, type Dataset } from '../jobs/exports.ts';
import { Writable } from 'node:stream';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  await insert(db.pool, 'regions', [
    { code: '330600', name: '越州市', level: 'city' },
    { code: '330681', name: '诸暨区', level: 'district', parent_code: '330600' },
    { code: '330681001', name: '暨阳街道', level: 'town', parent_code: '330681' },
    { code: '330681001001', name: '东社区', level: 'community', parent_code: '330681001' },
    { code: '330681001002', name: '西社区', level: 'community', parent_code: '330681001' }
  ]);
});
afterAll(async () => {
  await db?.drop();
});
const asOf = '2025-06-15';

describe('match-subsidies', () => {
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const p = db.pool;
    ids.age80new = pid('1940-01-10');
    await person(p, ids.age80new); // 85, no payout → to enrol
    ids.age80ok = pid('1941-01-10');
    await person(p, ids.age80ok);
    await insert(p, 'subsidies', [
      { payout_id: 'S1', id_number: ids.age80ok, project_code: 'AGE80', period: '2025-05-01', amount: '100.00' }
    ]);
    ids.age80young = pid('1947-01-10');
    await person(p, ids.age80young); // 78, paid → to stop
    await insert(p, 'subsidies', [
      { payout_id: 'S2', id_number: ids.age80young, project_code: 'AGE80', period: '2025-05-01', amount: '100.00' }
    ]);
    ids.hardEnded = pid('1960-02-02');
    await person(p, ids.hardEnded);
    await insert(p, 'hardship', [{ id_number: ids.hardEnded, kind: 'minimum_living', since: '2022-01-01', until: '2025-01-31' }]);
    await insert(p, 'subsidies', [
      { payout_id: 'S3', id_number: ids.hardEnded, project_code: 'HARD', period: '2025-05-01', amount: '300.00' }
    ]);
    ids.dis3 = pid('1958-03-03');
    await person(p, ids.dis3);
    await insert(p, 'hardship', [{ id_number: ids.dis3, kind: 'disability', level: '3', since: '2010-01-01' }]);
    await insert(p, 'subsidies', [{ payout_id: 'S4', id_number: ids.dis3, project_code: 'DIS', period: '2025-05-01', amount: '150.00' }]);
    ids.dead = pid('1930-01-01');
    await person(p, ids.dead);
    await insert(p, 'deaths', [{ record_id: 'D9', id_number: ids.dead, death_date: '2025-03-05', source: 'health' }]);
    await insert(p, 'subsidies', [{ payout_id: 'S5', id_number: ids.dead, project_code: 'AGE80', period: '2025-05-01', amount: '100.00' }]);
    ids.hosp = pid('1962-04-04');
    await person(p, ids.hosp);
    await insert(p, 'hardship', [{ id_number: ids.hosp, kind: 'low_income', since: '2023-01-01' }]);
    await evidence(p, ids.hosp, '2025-05-20', 'hospital_admission', 'HEALTH_HIS', 'ADM1');
  });

  it('lists eligible-not-receiving and receiving-not-eligible with the facts, and the payout list', async () => {
    const r = await runMatchSubsidies(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const m = await db.pool.query(`SELECT project_code, id_number, category, facts FROM subsidy_matches`);
    const cat = (id: string, project: string) => m.rows.find((x) => x.id_number === id && x.project_code === project);
    expect(cat(ids.age80new, 'AGE80')).toMatchObject({ category: 'eligible_not_receiving', facts: { age: 85 } });
    expect(cat(ids.age80ok, 'AGE80')).toMatchObject({ category: 'eligible_receiving' });
    expect(cat(ids.age80young, 'AGE80').category).toBe('receiving_not_eligible');
    expect(cat(ids.age80young, 'AGE80').facts.not_eligible_because[0]).toMatch(/age 78 below 80/);
    expect(cat(ids.hardEnded, 'HARD').category).toBe('receiving_not_eligible');
    expect(cat(ids.dis3, 'DIS').category).toBe('receiving_not_eligible');
    expect(cat(ids.dead, 'AGE80').facts.not_eligible_because).toEqual(['died 2025-03-05']);
    expect(cat(ids.hosp, 'HOSP')).toMatchObject({
      category: 'eligible_not_receiving',
      facts: { admissions: [{ evidence_id: 'ADM1', admitted_on: '2025-05-20', paid: false }] }
    });
    const l = await db.pool.query(`SELECT project_code, id_number, event_key, amount FROM subsidy_payout_list ORDER BY 1, 2`);
    expect(l.rows).toContainEqual({ project_code: 'HOSP', id_number: ids.hosp, event_key: 'ADM1', amount: '2000.00' });
    expect(
      l.rows
        .filter((x) => x.project_code === 'AGE80')
        .map((x) => x.id_number)
        .sort()
    ).toEqual([ids.age80new, ids.age80ok].sort());
  });
});

describe('remind-retirement', () => {
  it('computes in SQL exactly what retirementMonth computes, for every birth month 1960–1990', async () => {
    const rows: Record<string, unknown>[] = [];
    const want = new Map<string, { basis: string; retirement_month: string; age: number }>();
    let k = 0;
    for (const basis of ['M60', 'F55', 'F50'] as const) {
      for (let y = 1960; y <= 1990; y++)
        for (let m = 1; m <= 12; m++) {
          k++;
          const birth = `${y}-${String(m).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')}`;
          const id = makeIdNumber(String(110101 + (k % 50)), birth, (basis === 'M60' ? 1 : 0) + 2 * (k % 400));
          rows.push({
            id_number: id,
            name: '参保' + k,
            sex: basis === 'M60' ? 'M' : 'F',
            birth_date: birth,
            hukou_region: '330681001001',
            status: 'insured',
            retirement_basis: basis
          });
          const r = retirementMonth(basis, birth);
          want.set(id, { basis, retirement_month: r.retirementMonth, age: r.statutoryAgeMonths });
        }
    }
    for (let i = 0; i < rows.length; i += 400) await insert(db.pool, 'persons', rows.slice(i, i + 400));
    const r = await runRemindRetirement(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const got = await db.pool.query(
      `SELECT id_number, basis, statutory_age_months, to_char(retirement_month, 'YYYY-MM') AS rm FROM retirements`
    );
    expect(got.rows.length).toBe(want.size);
    for (const g of got.rows) {
      const w = want.get(g.id_number)!;
      expect({ basis: g.basis, rm: g.rm, age: g.statutory_age_months }, g.id_number).toEqual({
        basis: w.basis,
        rm: w.retirement_month,
        age: w.age
      });
    }
  });

  it('reminds at 12/6/3/1 months, once per milestone, only for the milestone in force', async () => {
    // A man born 1965-05 retires 2025-07 (2 months after 2025-05… as of 2025-06-15: 1 month ahead).
    const r1 = await db.pool.query(`SELECT count(*)::int AS n FROM retirement_reminders`);
    const byMilestone = await db.pool.query(`SELECT milestone_months, count(*)::int AS n FROM retirement_reminders GROUP BY 1 ORDER BY 1`);
    expect(r1.rows[0].n).toBeGreaterThan(0);
    for (const row of byMilestone.rows) expect([1, 3, 6, 12]).toContain(row.milestone_months);
    const man = await db.pool.query(`SELECT r.milestone_months, r.due_on FROM retirement_reminders r JOIN retirements t USING (id_number)
                                       WHERE t.basis = 'M60' AND to_char(t.birth_month, 'YYYY-MM') = '1965-05'`);
    expect(man.rows).toEqual([{ milestone_months: 1, due_on: '2025-06-01' }]);
    await runRemindRetirement(db.pool, { asOf, mode: 'full' });
    const again = await db.pool.query(`SELECT count(*)::int AS n FROM retirement_reminders`);
    expect(again.rows[0].n).toBe(r1.rows[0].n);
    // A month later the 1-month people are gone, the 3-month people of July reach their next milestone.
    const later = await runRemindRetirement(db.pool, { asOf: '2025-09-15', mode: 'full' });
    expect(later.status).toBe('ok');
    const dup = await db.pool.query(
      `SELECT id_number, milestone_months, count(*) FROM retirement_reminders GROUP BY 1, 2 HAVING count(*) > 1`
    );
    expect(dup.rows).toEqual([]);
  });

  it('reads its numbers from ref_rules: a changed table changes the result without code', async () => {
    const id = pid('1966-01-20');
    await person(db.pool, id, { status: 'insured', retirement_basis: 'M60' });
    await db.pool.query(
      `UPDATE ref_rules SET value = jsonb_set(value, '{M60,step_birth_months}', '2') WHERE rule_key = 'retirement.bases'`
    );
    await runRemindRetirement(db.pool, { asOf, mode: 'full' });
    const r = await db.pool.query(`SELECT statutory_age_months FROM retirements WHERE id_number = $1`, [id]);
    expect(r.rows[0].statutory_age_months).toBe(720 + 7); // (12 / 2) + 1 with a step of 2
    await db.pool.query(
      `UPDATE ref_rules SET value = jsonb_set(value, '{M60,step_birth_months}', '4') WHERE rule_key = 'retirement.bases'`
    );
    await runRemindRetirement(db.pool, { asOf, mode: 'full' });
    const r2 = await db.pool.query(`SELECT statutory_age_months FROM retirements WHERE id_number = $1`, [id]);
    expect(r2.rows[0].statutory_age_months).toBe(720 + 4);
  });
});

describe('assign-community', () => {
  it('assigns new retirees to the residence community, else the hukou one, with a report-in task', async () => {
    const a = pid('1964-01-01');
    const b = pid('1955-01-01');
    await person(db.pool, a, { retired_on: '2025-05-01', residence_region: '330681001002' });
    await person(db.pool, b, { retired_on: '2015-05-01', residence_region: '999999999999' });
    const r = await runAssignCommunity(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const c = await db.pool.query(
      `SELECT id_number, community_code, basis, report_in_due FROM community_assignments WHERE id_number = ANY($1) ORDER BY id_number`,
      [[a, b]]
    );
    expect(c.rows.find((x) => x.id_number === a)).toMatchObject({
      community_code: '330681001002',
      basis: 'residence',
      report_in_due: '2025-07-15'
    });
    expect(c.rows.find((x) => x.id_number === b)).toMatchObject({ community_code: '330681001001', basis: 'hukou', report_in_due: null });
    const t = await db.pool.query(`SELECT kind, region_code FROM tasks WHERE id_number = $1`, [a]);
    expect(t.rows).toEqual([{ kind: 'report_in', region_code: '330681001002' }]);
    await runAssignCommunity(db.pool, { asOf, mode: 'full' });
    const n = await db.pool.query(`SELECT count(*)::int AS n FROM community_assignments WHERE id_number = $1`, [a]);
    expect(n.rows[0].n).toBe(1);
    await db.pool.query(`UPDATE persons SET residence_region = '330681001001' WHERE id_number = $1`, [a]);
    await runAssignCommunity(db.pool, { asOf, mode: 'full' });
    const moved = await db.pool.query(
      `SELECT community_code, ended_on FROM community_assignments WHERE id_number = $1 ORDER BY assignment_id`,
      [a]
    );
    expect(moved.rows).toEqual([
      { community_code: '330681001002', ended_on: asOf },
      { community_code: '330681001001', ended_on: null }
    ]);
  });
});

describe('after-death', () => {
  it('opens a case per confirmed death with amounts and tasks; a family report waits for the record', async () => {
    const p = db.pool;
    const dead = pid('1935-05-05');
    await person(p, dead);
    await enroll(p, dead);
    await pay(p, dead, '2025-01', '2025-05', '3000.00');
    await insert(p, 'deaths', [
      { record_id: 'DD1', id_number: dead, death_date: '2025-03-12', source: 'health', recorded_at: '2025-04-02T10:00:00+08:00' }
    ]);
    const reported = pid('1936-06-06');
    await person(p, reported);
    await enroll(p, reported, 'RES');
    const rep = await reportDeath(p, { id_number: reported, reporter: '李四', relation: '子女', death_date: '2025-06-01' });
    expect(rep).toMatchObject({ status: 'reported', created: true });
    const again = await reportDeath(p, { id_number: reported.toLowerCase(), reporter: '王五', relation: '配偶', death_date: '2025-06-01' });
    expect(again).toMatchObject({ case_id: rep.case_id, created: false });
    await expect(reportDeath(p, { id_number: '123', reporter: 'x', relation: 'y', death_date: '2025-06-01' })).rejects.toThrow(/id_number/);

    const r = await runAfterDeath(p, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const c = await p.query(
      `SELECT case_id, status, death_date, amount_overpaid, funeral_grant, account_balance, detail FROM cases WHERE id_number = $1`,
      [dead]
    );
    expect(c.rows[0]).toMatchObject({
      status: 'open',
      death_date: '2025-03-12',
      amount_overpaid: '6000.00',
      funeral_grant: '5000.00',
      account_balance: '8000.00'
    });
    expect(c.rows[0].detail).toMatchObject({ suspend_from: '2025-04-01', overpaid_periods: ['2025-04-01', '2025-05-01'] });
    const t = await p.query(`SELECT kind, department, status FROM tasks WHERE case_id = $1 ORDER BY kind`, [c.rows[0].case_id]);
    expect(t.rows.map((x) => x.kind)).toEqual([
      'account_balance',
      'cancel_household',
      'funeral_grant',
      'recover_overpayment',
      'suspend_benefit'
    ]);
    const still = await p.query(`SELECT status FROM cases WHERE case_id = $1`, [rep.case_id]);
    expect(still.rows[0].status).toBe('reported');

    // The department record arrives: the reported case is confirmed, not duplicated.
    await insert(p, 'deaths', [
      {
        record_id: 'DD2',
        id_number: reported,
        death_date: '2025-06-01',
        source: 'public_security',
        recorded_at: '2025-06-10T10:00:00+08:00'
      }
    ]);
    await runAfterDeath(p, { asOf });
    const conf = await p.query(`SELECT case_id::int, status, funeral_grant FROM cases WHERE id_number = $1`, [reported]);
    expect(conf.rows).toEqual([{ case_id: rep.case_id, status: 'open', funeral_grant: '1000.00' }]);
    const vt = await p.query(`SELECT status FROM tasks WHERE case_id = $1 AND kind = 'verify_death_report'`, [rep.case_id]);
    expect(vt.rows[0].status).toBe('done');

    // All tasks done → the case closes.
    await p.query(`UPDATE tasks SET status = 'done' WHERE case_id = $1`, [c.rows[0].case_id]);
    await runAfterDeath(p, { asOf, mode: 'full' });
    const closed = await p.query(`SELECT status, close_reason FROM cases WHERE case_id = $1`, [c.rows[0].case_id]);
    expect(closed.rows[0]).toEqual({ status: 'closed', close_reason: 'all tasks done' });
    const audit = await p.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'death.report'`);
    expect(audit.rows[0].n).toBe(2);
  });
});

describe('all and the exports', () => {
  it('runs every engine in order and exports the stable columns', async () => {
    const r = await runAllEngines(db.pool, { asOf });
    expect(r.status, r.error).toBe('ok');
    expect(Object.keys(r.counts.extra)).toEqual([
      'certify',
      'detect-risk',
      'after-death',
      'match-subsidies',
      'assign-community',
      'remind-retirement'
    ]);
    for (const [name, ds] of Object.entries(ENGINE_DATASETS)) {
      let out = '';
      const sink = new Writable({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        }
      });
      const { DATASETS } = await import('../jobs/exports.ts');
      DATASETS[name] = ds as Dataset;
      await exportDataset(db.pool, name, { format: 'csv', out: sink, asOf });
      expect(out.split('\n')[0], name).toBe(ds.columns.join(','));
    }
  });

  it("never writes a cell a spreadsheet would run as a formula, and masks ID numbers in the quarantine's reasons", async () => {
    const hostile = '=HYPERLINK("http://evil.example","点我")';
    await db.pool.query(
      `INSERT INTO quarantine (feed, file_name, line_no, reason_code, reason, raw_line, created_at)
      VALUES ('persons', '@evil.csv', 7, 'bad_value', 'sex M disagrees with 330602195001011233', $1, '2026-03-05 22:30:00.123+00')`,
      [hostile]
    );
    const { Writable: W } = await import('node:stream');
    let out = '';
    await exportDataset(db.pool, 'quarantine', {
      format: 'csv',
      out: new W({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        }
      })
    });
    const line = out.split('\n').find((l) => l.includes('evil.csv'))!;
    expect(line).toContain(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);
    expect(line).toContain("'@evil.csv");
    expect(line).not.toContain('330602195001011233');
    expect(line).toContain('3306************33');
    // An auditor opening the file reads the bureau's clock: Beijing time with its offset, to the millisecond.
    expect(line.endsWith(',2026-03-06T06:30:00.123+08:00'), line).toBe(true);
  });
});
