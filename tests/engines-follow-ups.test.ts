// The certification follow-ups (docs/rules.md, silent certification, "Follow-ups when certified again,
// and in replays") on hand-built timelines: running certify and the indicator facts at three month-ends
// and then at D leaves the "now" facts of one run at D; a field task that an earlier run opened for a
// lapse closes itself, as certified_again, when a later run finds the person certified again; a run as
// of an earlier date after a later one neither closes nor resumes what the later run recorded, and
// sends nobody to a person it knows is certified again; a task cancelled because of a death record that
// is later withdrawn is followed by a new one; a field task is due counted from the run that opens it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, insert, pay, person, pid } from './engines-helpers.ts';
import { runCertify } from '../jobs/engines/certify.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';

const [M0, M1, M2, D] = ['2025-08-01', '2025-09-01', '2025-10-01', '2025-11-01'];
const ids: Record<string, string> = {};
let single: TestDatabase, replayed: TestDatabase;

async function scenario(db: TestDatabase): Promise<void> {
  const recipient = async (key: string, extra: Record<string, unknown> = {}) => {
    await person(db.pool, ids[key], { residence_region: '330681002003' });
    await enroll(db.pool, ids[key], 'ENT', extra);
    await pay(db.pool, ids[key], '2024-01', '2025-10', '3000.00'); // the data begin in 2024-01
  };
  // certified until 2025-06-10 (lapse 06-11, field task that day), certified again by evidence of 08-20
  await recipient('again');
  await evidence(db.pool, ids.again, '2024-06-10', 'hospital_admission', 'HEALTH_HIS', `${ids.again}-1`);
  await evidence(db.pool, ids.again, '2025-08-20', 'hospital_admission', 'HEALTH_HIS', `${ids.again}-2`);
  // certified until 2025-08-20: lapses between M0 and M1, suspended 60 days after (10-20), not certified since
  await recipient('later');
  await evidence(db.pool, ids.later, '2024-08-20', 'outpatient_visit', 'HEALTH_HIS', `${ids.later}-1`);
  // lapsed 2025-05-02 (suspended 07-01); a death record of 09-10 is in force from then until its withdrawal on 10-15
  await recipient('withdrawn');
  await evidence(db.pool, ids.withdrawn, '2024-05-01', 'outpatient_visit', 'HEALTH_HIS', `${ids.withdrawn}-1`);
  await insert(db.pool, 'deaths', [
    {
      record_id: `D-${ids.withdrawn}`,
      id_number: ids.withdrawn,
      death_date: '2025-09-10',
      source: 'health',
      status: 'withdrawn',
      recorded_at: '2025-10-15T10:00:00+08:00'
    }
  ]);
  // never certified: the benefit began in 2020, so the lapse (and the rule's field-task date) is 2020-01-01
  await recipient('never', { start_period: '2020-01-01' });
}

async function run(db: TestDatabase, asOf: string): Promise<void> {
  const c = await runCertify(db.pool, { asOf, mode: 'full' });
  expect(c.status, c.error).toBe('ok');
  const f = await runIndicatorFacts(db.pool, { asOf });
  expect(f.status, f.error).toBe('ok');
}

const people = async (db: TestDatabase) =>
  (
    await db.pool.query(
      `SELECT id_number, as_of, cert_valid, certified, field_task_open, field_task_since, cert_expired, suspended_not_certified,
              suspended_since, list_order
         FROM ind_person_now WHERE id_number = ANY($1) ORDER BY id_number`,
      [Object.values(ids)]
    )
  ).rows;
const tasks = async (db: TestDatabase, id: string) =>
  (
    await db.pool.query(
      `SELECT dedup_key, status, due_on, opened_as_of, closed_as_of, result ->> 'closed_by' AS closed_by, result ->> 'reason' AS reason
         FROM tasks WHERE kind = 'field_verification' AND id_number = $1 ORDER BY task_id`,
      [id]
    )
  ).rows;
const flags = async (db: TestDatabase, id: string) =>
  (
    await db.pool.query(
      `SELECT field_task_open, field_task_since, suspended_not_certified, suspended_since FROM ind_person_now WHERE id_number = $1`,
      [id]
    )
  ).rows[0];

beforeAll(async () => {
  for (const k of ['again', 'later', 'withdrawn', 'never']) ids[k] = pid('1950-03-04');
  single = await freshDatabase();
  replayed = await freshDatabase();
  await scenario(single);
  await scenario(replayed);
}, 120_000);

afterAll(async () => {
  await single?.drop();
  await replayed?.drop();
});

describe('certification follow-ups, replayed', () => {
  it('month-ends in order close the follow-ups that no longer hold, and leave the facts of one run at the last date', async () => {
    for (const d of [M0, M1]) await run(replayed, d);
    // opened as of M0 for the lapse of 06-11, closed as of M1 by the system: the person is certified again
    expect(await tasks(replayed, ids.again)).toEqual([
      {
        dedup_key: 'cert:2025-06-10',
        status: 'cancelled',
        due_on: '2025-08-15',
        opened_as_of: M0,
        closed_as_of: M1,
        closed_by: 'certify',
        reason: 'certified_again'
      }
    ]);
    // never certified: the task is due 14 days after the run that opened it, not 14 days after 2020-01-01
    expect(await tasks(replayed, ids.never)).toMatchObject([{ dedup_key: 'cert:2019-12-31', status: 'open', due_on: '2025-08-15' }]);
    expect(await flags(replayed, ids.never)).toMatchObject({ field_task_open: true, field_task_since: 'before 2024-01' });

    await run(replayed, M2);
    // the death record in force on M2 makes the person negative: the lapse's task is cancelled …
    expect(await tasks(replayed, ids.withdrawn)).toMatchObject([
      { dedup_key: 'cert:2025-05-01', status: 'cancelled', reason: 'negative_death' }
    ]);
    await run(replayed, D);
    // … and, the record withdrawn by D, the lapse is open again: a new task for it
    expect(await tasks(replayed, ids.withdrawn)).toMatchObject([
      { dedup_key: 'cert:2025-05-01', status: 'cancelled', reason: 'negative_death', closed_as_of: M2 },
      { dedup_key: 'cert:2025-05-01#2', status: 'open', opened_as_of: D, due_on: '2025-11-15' }
    ]);

    await run(single, D);
    expect(await people(single)).toHaveLength(4);
    expect(await people(replayed)).toEqual(await people(single));
    expect(await flags(single, ids.again)).toMatchObject({ field_task_open: false, suspended_not_certified: false });
    expect(await flags(single, ids.later)).toEqual({
      field_task_open: true,
      field_task_since: '2025-08-21',
      suspended_not_certified: true,
      suspended_since: '2025-10-20'
    });
    expect(await flags(single, ids.withdrawn)).toEqual({
      field_task_open: true,
      field_task_since: '2025-05-02',
      suspended_not_certified: true,
      suspended_since: '2025-07-01'
    });
  });

  it('an earlier date run after a later one sees its own date and changes nothing the later run recorded', async () => {
    const before = {
      tasks: await Promise.all(Object.values(ids).map((id) => tasks(replayed, id))),
      resumptions: (await replayed.pool.query(`SELECT count(*)::int AS n FROM cert_events WHERE kind = 'resumption'`)).rows[0].n
    };
    // as of M2 'withdrawn' is negative (the death record is not withdrawn yet): the task that the run as
    // of D opened for it stays open
    await run(replayed, M2);
    await run(replayed, M0);
    // as of M0: 'later' is certified until 08-20 — its task (opened as of M1) stays open and its suspension
    // of 10-20 is not resumed; 'again' lapsed on 06-11 and awaits a visit as of M0, but gets no new task:
    // a later run found it certified again
    expect(await Promise.all(Object.values(ids).map((id) => tasks(replayed, id)))).toEqual(before.tasks);
    expect((await replayed.pool.query(`SELECT count(*)::int AS n FROM cert_events WHERE kind = 'resumption'`)).rows[0].n).toBe(
      before.resumptions
    );
    expect(await flags(replayed, ids.again)).toMatchObject({ field_task_open: true, field_task_since: '2025-06-11' });
    expect(await flags(replayed, ids.later)).toMatchObject({ field_task_open: false, suspended_not_certified: false });

    // the same on the database that only ever ran as of D: as of M0 the facts are the same, and no task opens
    await run(single, M0);
    expect(await people(single)).toEqual(await people(replayed));
    expect(await tasks(single, ids.again)).toEqual([]);

    await run(replayed, D);
    await run(single, D);
    expect(await Promise.all(Object.values(ids).map((id) => tasks(replayed, id)))).toEqual(before.tasks);
    expect(await people(replayed)).toEqual(await people(single));
    expect(await flags(replayed, ids.later)).toMatchObject({ field_task_open: true, suspended_not_certified: true });
  });
});
