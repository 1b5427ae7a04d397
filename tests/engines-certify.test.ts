// certify on real PostgreSQL: hand-built timelines, follow-up events and tasks, idempotent re-runs,
// and agreement with the pure reference (core/domain/certification-rules.ts) on random timelines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, insert, person, pid } from './engines-helpers.ts';
import { runCertify } from '../jobs/engines/certify.ts';
import { DEFAULT_RULES } from '../core/reference/rules.ts';
import { addDays, decideCertification, type Timeline } from '../core/domain/certification-rules.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const asOf = '2025-06-30';
async function recipient(birth = '1950-03-04'): Promise<string> {
  const id = pid(birth);
  await person(db.pool, id, { residence_region: '330681002003' });
  await enroll(db.pool, id);
  return id;
}
async function status(id: string) {
  const r = await db.pool.query(
    `SELECT status, method, certified_at, valid_until, rule, evidence_ids FROM cert_status WHERE id_number = $1`,
    [id]
  );
  return r.rows[0];
}

describe('certify', () => {
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    ids.strong = await recipient();
    await evidence(db.pool, ids.strong, '2025-02-10', 'hospital_admission', 'HEALTH_HIS', 'S1');
    ids.same = await recipient();
    await evidence(db.pool, ids.same, '2025-03-01', 'rail_ticket', 'RAILWAY', 'S2');
    await insert(db.pool, 'certifications', [
      { certification_id: 'C1', id_number: ids.same, method: 'counter', certified_at: '2025-03-01T15:00:00+08:00', result: 'pass' }
    ]);
    ids.explicit = await recipient();
    await evidence(db.pool, ids.explicit, '2025-03-01', 'rail_ticket', 'RAILWAY');
    await insert(db.pool, 'certifications', [
      { certification_id: 'C2', id_number: ids.explicit, method: 'face_online', certified_at: '2025-04-01T15:00:00+08:00', result: 'pass' }
    ]);
    ids.weakSame = await recipient();
    await evidence(db.pool, ids.weakSame, '2025-03-01', 'bus_swipe', 'TRANSIT_CARD');
    await evidence(db.pool, ids.weakSame, '2025-03-05', 'bus_swipe', 'TRANSIT_CARD');
    ids.weakFar = await recipient();
    await evidence(db.pool, ids.weakFar, '2025-01-01', 'bus_swipe', 'TRANSIT_CARD');
    await evidence(db.pool, ids.weakFar, '2025-04-05', 'phone_topup', 'TELECOM');
    ids.weakOk = await recipient();
    await evidence(db.pool, ids.weakOk, '2025-02-01', 'bus_swipe', 'TRANSIT_CARD', 'W1');
    await evidence(db.pool, ids.weakOk, '2025-04-20', 'phone_topup', 'TELECOM', 'W2');
    ids.dead = await recipient();
    await insert(db.pool, 'deaths', [
      { record_id: 'D1', id_number: ids.dead, death_date: '2025-03-10', source: 'health', recorded_at: '2025-04-01T10:00:00+08:00' }
    ]);
    await evidence(db.pool, ids.dead, '2025-05-01', 'face_login', 'GOV_APP');
    ids.jailed = await recipient();
    await evidence(db.pool, ids.jailed, '2025-05-01', 'face_login', 'GOV_APP');
    await insert(db.pool, 'imprisonments', [
      { record_id: 'I1', id_number: ids.jailed, start_date: '2025-01-10', end_date: null, source: 'prison' }
    ]);
    ids.released = await recipient();
    await evidence(db.pool, ids.released, '2025-05-01', 'face_login', 'GOV_APP');
    await insert(db.pool, 'imprisonments', [
      { record_id: 'I2', id_number: ids.released, start_date: '2024-08-10', end_date: '2025-02-01', source: 'prison' }
    ]);
    ids.releasedNoNews = await recipient();
    await evidence(db.pool, ids.releasedNoNews, '2024-08-01', 'face_login', 'GOV_APP');
    await insert(db.pool, 'imprisonments', [
      { record_id: 'I3', id_number: ids.releasedNoNews, start_date: '2024-08-10', end_date: '2025-02-01', source: 'prison' }
    ]);
    ids.expired = await recipient();
    await evidence(db.pool, ids.expired, '2024-03-15', 'outpatient_visit', 'HEALTH_HIS');
    ids.expiring = await recipient();
    await evidence(db.pool, ids.expiring, '2024-07-20', 'outpatient_visit', 'HEALTH_HIS');
  });

  it('decides each timeline per docs/rules.md', async () => {
    const r = await runCertify(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    expect(await status(ids.strong)).toMatchObject({
      status: 'certified',
      method: 'silent',
      certified_at: '2025-02-10',
      valid_until: '2026-02-10',
      rule: 'strong_evidence',
      evidence_ids: ['S1']
    });
    expect(await status(ids.same)).toMatchObject({
      status: 'certified',
      method: 'silent',
      certified_at: '2025-03-01',
      evidence_ids: ['S2']
    });
    expect(await status(ids.explicit)).toMatchObject({
      status: 'certified',
      method: 'face_online',
      certified_at: '2025-04-01',
      rule: 'explicit_certification',
      evidence_ids: ['C2']
    });
    expect(await status(ids.weakSame)).toMatchObject({ status: 'not_certified', rule: 'never_certified' });
    expect(await status(ids.weakFar)).toMatchObject({ status: 'not_certified' });
    expect(await status(ids.weakOk)).toMatchObject({
      status: 'certified',
      method: 'silent',
      certified_at: '2025-02-01',
      rule: 'weak_corroboration',
      evidence_ids: ['W1', 'W2']
    });
    expect(await status(ids.dead)).toMatchObject({
      status: 'negative',
      method: null,
      certified_at: null,
      rule: 'negative_death',
      evidence_ids: ['D1']
    });
    expect(await status(ids.jailed)).toMatchObject({ status: 'negative', rule: 'negative_custody' });
    expect(await status(ids.released)).toMatchObject({ status: 'certified', certified_at: '2025-05-01' });
    expect(await status(ids.releasedNoNews)).toMatchObject({ status: 'not_certified' });
    expect(await status(ids.expired)).toMatchObject({ status: 'not_certified', rule: 'expired', valid_until: null });
    expect(r.counts.extra.silent_rate).toBeCloseTo((5 / 6) * 100, 1);
  });

  it('records dated follow-up events and one field task to the community', async () => {
    const ev = await db.pool.query(
      `SELECT id_number, kind, event_date, reason FROM cert_events WHERE id_number = ANY($1) AND kind <> 'certified' ORDER BY id_number, event_date, kind`,
      [[ids.expired, ids.expiring, ids.dead]]
    );
    const of = (id: string) => ev.rows.filter((e) => e.id_number === id).map((e) => `${e.kind}@${e.event_date}`);
    // expired: valid until 2025-03-15, lapse 03-16 → reminder 02-14, field task 03-16, suspension 05-15
    expect(of(ids.expired)).toEqual(['reminder@2025-02-14', 'field_task@2025-03-16', 'suspension@2025-05-15']);
    // expiring: valid until 2025-07-20, lapse 07-21 → reminder 06-21 only
    expect(of(ids.expiring)).toEqual(['reminder@2025-06-21']);
    expect(of(ids.dead)).toEqual(['suspension@2025-04-01']);
    // due 14 days after the as-of date of the run that opens it (2025-06-30), not after the lapse (03-16)
    const t = await db.pool.query(`SELECT kind, region_code, status, due_on, opened_as_of FROM tasks WHERE id_number = $1`, [ids.expired]);
    expect(t.rows).toEqual([
      { kind: 'field_verification', region_code: '330681002003', status: 'open', due_on: '2025-07-14', opened_as_of: asOf }
    ]);
  });

  it('is idempotent and resumes a suspended person once certified', async () => {
    const before = await db.pool.query(`SELECT (SELECT count(*) FROM cert_events) AS e, (SELECT count(*) FROM tasks) AS t`);
    const again = await runCertify(db.pool, { asOf, mode: 'full' });
    expect(again.status).toBe('ok');
    const after = await db.pool.query(`SELECT (SELECT count(*) FROM cert_events) AS e, (SELECT count(*) FROM tasks) AS t`);
    expect(after.rows[0]).toEqual(before.rows[0]);
    await insert(db.pool, 'certifications', [
      { certification_id: 'C9', id_number: ids.expired, method: 'field_visit', certified_at: '2025-06-20T10:00:00+08:00', result: 'pass' }
    ]);
    const inc = await runCertify(db.pool, { asOf });
    expect(inc.counts.extra.mode).toBe('incremental');
    expect(inc.counts.extra.scope).toBe(1);
    expect(await status(ids.expired)).toMatchObject({ status: 'certified', method: 'field_visit', certified_at: '2025-06-20' });
    const res = await db.pool.query(`SELECT event_date FROM cert_events WHERE id_number = $1 AND kind = 'resumption'`, [ids.expired]);
    expect(res.rows).toEqual([{ event_date: '2025-06-20' }]);
    // closed by the system, done: the certification that ends the lapse is a field visit
    const t = await db.pool.query(
      `SELECT status, closed_as_of, result ->> 'closed_by' AS closed_by, result ->> 'reason' AS reason FROM tasks WHERE id_number = $1`,
      [ids.expired]
    );
    expect(t.rows).toEqual([{ status: 'done', closed_as_of: asOf, closed_by: 'certify', reason: 'certified_again' }]);
  });

  it('runs in full after a run with another as-of date, and a far-past run does not poison the next ones', async () => {
    const snapshot = async () =>
      (await db.pool.query(`SELECT id_number, status, method, valid_until FROM cert_status ORDER BY id_number`)).rows;
    const before = await snapshot();
    expect(before.length).toBeGreaterThan(5);
    const past = await runCertify(db.pool, { asOf: '1800-01-01' });
    expect(past.status).toBe('ok');
    // Before: the next default run found an earlier OK run on the same as-of, went incremental over
    // nobody, and left the far-past state in place for good.
    const next = await runCertify(db.pool, { asOf });
    expect(next.counts.extra.mode).toBe('full');
    expect(await snapshot()).toEqual(before);
    const after = await runCertify(db.pool, { asOf });
    expect(after.counts.extra.mode).toBe('incremental');
  });
});

describe('the incremental watermark', () => {
  it('ignores transactions open in other databases of the same server', async () => {
    // A shared server (the test run's, or production's) has other databases: their open transactions say
    // nothing about rows of this one, and must not pull the watermark back (every later run would widen).
    const other = await freshDatabase();
    const client = await other.pool.connect();
    try {
      await client.query('BEGIN');
      const started = (await client.query(`SELECT now() AS t`)).rows[0].t as Date;
      await new Promise((r) => setTimeout(r, 20));
      const run = await runCertify(db.pool, { asOf, mode: 'full' });
      expect(run.status).toBe('ok');
      expect(new Date(run.counts.extra.watermark as string).getTime()).toBeGreaterThan(started.getTime());
    } finally {
      await client.query('ROLLBACK');
      client.release();
      await other.drop();
    }
  });
});

describe('certify agrees with the pure reference on random timelines', () => {
  it('matches decideCertification for 400 people', async () => {
    let state = 7;
    const rng = {
      next: () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state / 2 ** 32;
      }
    };
    const kinds = { strong: ['outpatient_visit', 'face_login', 'rail_ticket'], weak: ['bus_swipe', 'phone_topup', 'utility_payment'] };
    const sources = ['TRANSIT_CARD', 'TELECOM', 'UTILITY'];
    const base = '2023-07-01';
    const day = (n: number) => addDays(base, n);
    const timelines = new Map<string, Timeline>();
    const evRows: Record<string, unknown>[] = [];
    const certRows: Record<string, unknown>[] = [];
    const deathRows: Record<string, unknown>[] = [];
    const custodyRows: Record<string, unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const id = pid('1948-01-01');
      await person(db.pool, id);
      await enroll(db.pool, id);
      const t: Required<Timeline> = { asOf, evidence: [], certifications: [], deaths: [], imprisonments: [] };
      const nEv = Math.floor(rng.next() * 6);
      for (let k = 0; k < nEv; k++) {
        const strong = rng.next() < 0.3;
        const date = day(Math.floor(rng.next() * 760));
        const source = strong ? 'HEALTH_HIS' : sources[Math.floor(rng.next() * 3)];
        const kind = (strong ? kinds.strong : kinds.weak)[Math.floor(rng.next() * 3)];
        const eid = `R${i}-${k}`;
        t.evidence.push({ evidence_id: eid, source, kind, strength: strong ? 'strong' : 'weak', date });
        evRows.push({ evidence_id: eid, id_number: id, source, kind, occurred_at: `${date}T12:00:00+08:00` });
      }
      if (rng.next() < 0.3) {
        const date = day(Math.floor(rng.next() * 760));
        const result = rng.next() < 0.8 ? 'pass' : 'fail';
        const method = ['face_online', 'kiosk', 'counter', 'field_visit'][Math.floor(rng.next() * 4)];
        t.certifications.push({
          certification_id: `RC${i}`,
          method,
          date,
          at: `${date}T11:00:00+08:00`,
          result: result as 'pass' | 'fail'
        });
        certRows.push({ certification_id: `RC${i}`, id_number: id, method, certified_at: `${date}T11:00:00+08:00`, result });
      }
      if (rng.next() < 0.08) {
        const date = day(Math.floor(rng.next() * 760));
        t.deaths.push({ record_id: `RD${i}`, death_date: date });
        deathRows.push({ record_id: `RD${i}`, id_number: id, death_date: date, source: 'health' });
      }
      if (rng.next() < 0.1) {
        const start = Math.floor(rng.next() * 700);
        const end = rng.next() < 0.3 ? null : day(start + Math.floor(rng.next() * 300));
        t.imprisonments.push({ record_id: `RI${i}`, start_date: day(start), end_date: end });
        custodyRows.push({ record_id: `RI${i}`, id_number: id, start_date: day(start), end_date: end, source: 'court' });
      }
      timelines.set(id, t);
    }
    for (let k = 0; k < evRows.length; k += 500) await insert(db.pool, 'evidence', evRows.slice(k, k + 500));
    await insert(db.pool, 'certifications', certRows);
    await insert(db.pool, 'deaths', deathRows);
    await insert(db.pool, 'imprisonments', custodyRows);
    const r = await runCertify(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    const got = await db.pool.query(`SELECT * FROM cert_status WHERE id_number = ANY($1)`, [[...timelines.keys()]]);
    expect(got.rows).toHaveLength(400);
    let certified = 0;
    for (const row of got.rows) {
      const want = decideCertification(timelines.get(row.id_number)!, DEFAULT_RULES.certification);
      const have = {
        status: row.status,
        method: row.method,
        certified_at: row.certified_at,
        valid_until: row.valid_until,
        rule: row.rule,
        evidence_ids: row.evidence_ids,
        last_valid_until: row.last_valid_until
      };
      expect(have, row.id_number).toEqual({
        status: want.status,
        method: want.method,
        certified_at: want.certified_at,
        valid_until: want.valid_until,
        rule: want.rule,
        evidence_ids: want.evidence_ids,
        last_valid_until: want.last_valid_until
      });
      if (want.status === 'certified') certified++;
    }
    expect(certified).toBeGreaterThan(50);
  });
});
