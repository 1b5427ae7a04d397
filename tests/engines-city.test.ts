// The engines against the synthetic city's ground truth: generate the tiny and the demo city (demo skipped
// with YINLING_TEST_DEMO=0), ingest it, run `all` as of the truth's as-of date, and compare every
// planted alert (exact amount and periods, nothing outside the truth), every recipient's
// certification, every insured person's retirement month, the policy lists and the silent rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity, type GroundTruth } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runAllEngines } from '../jobs/engines/index.ts';

const scales = (process.env.YINLING_TEST_DEMO === '0' ? ['tiny'] : ['tiny', 'demo']) as ('tiny' | 'demo')[];

for (const scale of scales) {
  describe(`engines on the ${scale} city`, () => {
    let db: TestDatabase;
    let truth: GroundTruth;
    let dir: string;
    let summary: Record<string, any>;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `yinling-engines-${scale}-`));
      truth = await generateCity({ scale, seed: 1, outDir: dir });
      db = await freshDatabase();
      await ingestInbox(db.pool, { inbox: dir });
      const r = await runAllEngines(db.pool, { asOf: truth.asOf });
      if (r.status !== 'ok') throw new Error(r.error);
      const certRun = await db.pool.query(`SELECT counts FROM job_runs WHERE job = 'certify' ORDER BY run_id DESC LIMIT 1`);
      summary = certRun.rows[0].counts;
    }, 600_000);
    afterAll(async () => {
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('finds every planted alert with its exact amount and periods, and nothing else', async () => {
      const r = await db.pool
        .query(`SELECT rule, id_number, dedup_key, amount_at_risk, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x ORDER BY x) AS periods, evidence
                                       FROM alerts WHERE status <> 'closed' ORDER BY rule, id_number`);
      const key = (a: { rule: string; id_number: string }) => `${a.rule}|${a.id_number}`;
      const got = new Map(r.rows.map((a) => [key(a), a]));
      const want = new Map(truth.alerts.map((a) => [key(a), a]));
      const missing = [...want.keys()].filter((k) => !got.has(k));
      const extra = [...got.keys()].filter((k) => !want.has(k));
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
      for (const [k, w] of want) {
        const g = got.get(k)!;
        expect({ amount: g.amount_at_risk, periods: g.periods }, k).toEqual({ amount: w.amount_at_risk, periods: w.periods });
        if (w.account_no) {
          expect(g.dedup_key).toBe(w.account_no);
          expect(g.evidence.persons).toEqual(w.persons);
        }
      }
      expect(truth.alerts.length).toBeGreaterThan(0);
    });

    it('records exactly the planted restorations of withdrawn records, with their back pay', async () => {
      const r = await db.pool.query(
        `SELECT record_id, id_number, scheme_code, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x ORDER BY x) AS periods, back_pay
           FROM restorations ORDER BY record_id, scheme_code`
      );
      const want = truth.withdrawals.flatMap((w) =>
        w.restorations.map((x) => ({
          record_id: w.record_id,
          id_number: w.id_number,
          scheme_code: x.scheme_code,
          periods: x.periods,
          back_pay: x.back_pay
        }))
      );
      expect(want.length).toBeGreaterThan(0);
      expect(r.rows).toEqual(want.sort((a, b) => a.record_id.localeCompare(b.record_id) || a.scheme_code.localeCompare(b.scheme_code)));
    });

    it('gives every recipient the ground truth certification outcome', async () => {
      const r = await db.pool.query(`SELECT id_number, status, method, certified_at, valid_until FROM cert_status`);
      const got = new Map(r.rows.map((x) => [x.id_number, x]));
      const wrong: string[] = [];
      for (const [id, w] of Object.entries(truth.certification)) {
        const g = got.get(id);
        const have = g ? { status: g.status, method: g.method, certified_on: g.certified_at, valid_until: g.valid_until } : null;
        if (JSON.stringify(have) !== JSON.stringify(w)) wrong.push(`${id}: want ${JSON.stringify(w)} got ${JSON.stringify(have)}`);
      }
      expect(wrong.slice(0, 10)).toEqual([]);
      expect(Object.keys(truth.certification).length).toBeGreaterThan(0);
    });

    it('prints a silent-certification rate of 85–92% equal to the truth on its recipients', async () => {
      const ids = Object.keys(truth.certification);
      const r = await db.pool.query(
        `SELECT count(*) FILTER (WHERE status = 'certified')::float AS c, count(*) FILTER (WHERE method = 'silent')::float AS s
                                       FROM cert_status WHERE id_number = ANY($1)`,
        [ids]
      );
      expect(r.rows[0].s / r.rows[0].c).toBeCloseTo(truth.silentRate, 6);
      expect(summary.silent_rate).toBeGreaterThanOrEqual(85);
      expect(summary.silent_rate).toBeLessThanOrEqual(92);
    });

    it('places every insured person at the right retirement month', async () => {
      const r = await db.pool.query(
        `SELECT id_number, basis, to_char(birth_month, 'YYYY-MM') AS birth_month, statutory_age_months, to_char(retirement_month, 'YYYY-MM') AS retirement_month, months_to_retirement FROM retirements`
      );
      const got = new Map(r.rows.map((x) => [x.id_number, x]));
      const wrong: string[] = [];
      for (const [id, w] of Object.entries(truth.retirement)) {
        const g = got.get(id);
        if (
          !g ||
          g.basis !== w.basis ||
          g.birth_month !== w.birth_month ||
          g.statutory_age_months !== w.statutory_age_months ||
          g.retirement_month !== w.retirement_month
        ) {
          wrong.push(`${id}: want ${JSON.stringify(w)} got ${JSON.stringify(g)}`);
        }
      }
      expect(wrong.slice(0, 10)).toEqual([]);
      expect(got.size).toBe(Object.keys(truth.retirement).length);
      const reminded = await db.pool.query(`SELECT DISTINCT id_number FROM retirement_reminders`);
      const due = Object.entries(truth.retirement)
        .filter(([, w]) => w.reminder_due)
        .map(([id]) => id)
        .sort();
      expect(reminded.rows.map((x) => x.id_number).sort()).toEqual(due);
    });

    it('lists the planted policy cases (AGE80, HARD, DIS) and nothing else among recipients', async () => {
      const r = await db.pool.query(
        `SELECT project_code AS project, id_number, category FROM subsidy_matches
                                       WHERE project_code IN ('AGE80', 'HARD', 'DIS') AND category <> 'eligible_receiving' AND id_number = ANY($1)`,
        [Object.keys(truth.certification)]
      );
      const pick = (cat: string) =>
        r.rows
          .filter((x) => x.category === cat)
          .map((x) => `${x.project}|${x.id_number}`)
          .sort();
      expect(pick('eligible_not_receiving')).toEqual(truth.policy.eligibleNotReceiving.map((x) => `${x.project}|${x.id_number}`).sort());
      expect(pick('receiving_not_eligible')).toEqual(truth.policy.receivingNotEligible.map((x) => `${x.project}|${x.id_number}`).sort());
    });
  });
}
