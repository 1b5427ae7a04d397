// Field tasks for community staff (core/workflow/field-visits.ts) on real PostgreSQL, with the engines
// run by the real CLI (`yinling run all`, as of today): a community's staff see only their community's
// open tasks, a town's staff see the town's with the overdue ones escalated; everybody else is refused;
// a task of another community is "not found" to read and to record, and nothing changes; "seen in
// person" becomes a field_visit certification that the next run turns into certified (method
// field_visit) while the task stays closed; "deceased" opens the after-death case and the auditors'
// follow-up; notes with an ID or phone number are refused; the database keeps closed tasks closed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { createUser, login, type StaffUser } from '../core/accounts.ts';
import { ensureDemoAccounts } from '../core/demo-accounts.ts';
import { todayShanghai } from '../core/time.ts';
import {
  fieldArea,
  fieldTask,
  isOverdue,
  listFieldTasks,
  recordVisit,
  staffByName,
  type VisitInput
} from '../core/workflow/field-visits.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, person, pid } from './engines-helpers.ts';

const CITY = '330600000000';
const DISTRICT = '330602000000';
const TOWN_A = '330602001000';
const K1 = '330602001001';
const K2 = '330602001002';
const TOWN_B = '330602002000';
const K3 = '330602002001';

const today = todayShanghai();
const daysAgo = (n: number) => new Date(Date.parse(today + 'T00:00:00Z') - n * 86400_000).toISOString().slice(0, 10);
const monthsAgo = (m: number, plusDays = 0) => {
  const d = new Date(today + 'T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() - m);
  d.setUTCDate(d.getUTCDate() - plusDays);
  return d.toISOString().slice(0, 10);
};

let db: TestDatabase;
const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url },
    timeout: 120_000
  });
function runAll(...args: string[]) {
  const r = cli(['run', 'all', ...args]);
  expect(r.status, r.stderr + r.stdout).toBe(0);
}

const p: Record<string, string> = {};
const users: Record<string, StaffUser> = {};
/** The open field_verification task of a person. */
async function taskOf(id: string, kind = 'field_verification'): Promise<number> {
  const r = await db.pool.query(`SELECT task_id FROM tasks WHERE id_number = $1 AND kind = $2 ORDER BY task_id DESC LIMIT 1`, [id, kind]);
  if (!r.rowCount) throw new Error(`no ${kind} task for ${id}`);
  return Number(r.rows[0].task_id);
}
/** What a refused write could have changed. */
async function snapshot() {
  const r = await db.pool.query(
    `SELECT (SELECT json_agg(json_build_object('id', task_id, 's', status, 'r', result) ORDER BY task_id) FROM tasks) AS tasks,
            (SELECT count(*) FROM field_visits)::int AS visits, (SELECT count(*) FROM certifications)::int AS certs,
            (SELECT count(*) FROM cases)::int AS cases`
  );
  return r.rows[0];
}

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO regions (code, name, level, parent_code) VALUES
       ($1, '测试市', 'city', NULL), ($2, '越城区', 'district', $1),
       ($3, '甲镇', 'town', $2), ($4, '东社区', 'community', $3), ($5, '西社区', 'community', $3),
       ($6, '乙镇', 'town', $2), ($7, '南社区', 'community', $6)`,
    [CITY, DISTRICT, TOWN_A, K1, K2, TOWN_B, K3]
  );
  await db.pool.query(`REFRESH MATERIALIZED VIEW region_paths`);
  // Recipients whose certification lapsed about 40 days ago (their field task is overdue) …
  const lapsed = async (key: string, community: string, extra: Record<string, unknown> = {}) => {
    p[key] = pid('1950-03-04');
    await person(db.pool, p[key], { hukou_region: community, residence_region: community, phone: '13900001111', ...extra });
    await enroll(db.pool, p[key]);
    await evidence(db.pool, p[key], monthsAgo(12, 40), 'hospital_admission', 'HEALTH_HIS');
  };
  await lapsed('seen', K1);
  await lapsed('dead', K1);
  await lapsed('away', K1);
  await lapsed('other', K2);
  await lapsed('south', K3);
  // … one whose certification lapsed 3 days ago (its task, issued today, is due in 14 days: not overdue) …
  p.fresh = pid('1952-05-06');
  await person(db.pool, p.fresh, { hukou_region: K1, residence_region: K1 });
  await enroll(db.pool, p.fresh);
  await evidence(db.pool, p.fresh, monthsAgo(12, 4), 'rail_ticket', 'RAILWAY');
  // … and a new retiree, who must report in.
  p.retiree = pid('1966-01-02');
  await person(db.pool, p.retiree, { hukou_region: K1, residence_region: K1, retired_on: daysAgo(20), retirement_basis: 'M60' });

  const staff = async (username: string, role: string, regionCode: string) => {
    await createUser(db.pool, { type: 'operator', name: 'test' }, { username, role, regionCode, password: 'field-test-pw' });
    users[username] = await staffByName(db.pool, username);
  };
  await staff('k1-staff', 'staff', K1);
  await staff('k2-staff', 'staff', K2);
  await staff('town-a', 'staff', TOWN_A);
  await staff('district-staff', 'staff', DISTRICT);
  await staff('boss', 'leader', CITY);
  await staff('auditor', 'auditor', CITY);
  await staff('k1-admin', 'admin', K1);
  // The daily runs issued the tasks of the lapses of about 40 days ago then (due 14 days after the run
  // that opens them, docs/rules.md): the run as of 30 days ago stands for them; then today's.
  runAll('--as-of', daysAgo(30));
  runAll();
}, 300_000);

afterAll(async () => {
  await db?.drop();
});

describe('who sees which field tasks', () => {
  it('shows a community its own open tasks only, earliest due first, overdue flagged', async () => {
    const { area, tasks } = await listFieldTasks(db.pool, users['k1-staff']);
    expect(area).toMatchObject({ code: K1, level: 'community' });
    const mine = [p.seen, p.dead, p.away, p.fresh, p.retiree];
    expect(new Set(tasks.map((t) => t.region_code))).toEqual(new Set([K1]));
    expect(tasks.map((t) => t.kind).sort()).toEqual([
      'field_verification',
      'field_verification',
      'field_verification',
      'field_verification',
      'report_in'
    ]);
    const ids = await db.pool.query(`SELECT task_id, id_number FROM tasks WHERE task_id = ANY($1)`, [tasks.map((t) => t.task_id)]);
    expect(new Set(ids.rows.map((r) => r.id_number))).toEqual(new Set(mine));
    const due = tasks.map((t) => t.due_on!);
    expect(due).toEqual([...due].sort());
    for (const t of tasks) expect(t.overdue, `${t.kind} due ${t.due_on}`).toBe(t.due_on! < today);
    expect(tasks.filter((t) => t.overdue)).toHaveLength(3);
    expect(tasks.some((t) => t.escalated)).toBe(false); // a community's own list: overdue, not escalated
    // what the record says and why
    const seenTask = await taskOf(p.seen);
    const seen = tasks.find((t) => t.task_id === seenTask)!;
    expect(seen.cert).toMatchObject({ status: 'not_certified', rule: 'expired' });
    expect(seen.last_evidence).toMatchObject({ kind: 'hospital_admission', source: 'HEALTH_HIS', date: monthsAgo(12, 40) });
    expect(seen.enrollments).toEqual([expect.objectContaining({ scheme_code: 'ENT', status: 'active' })]);
    expect(seen.id_masked).toContain('*');
    const audit = await db.pool.query(
      `SELECT detail FROM audit_log WHERE action = 'field.list' AND actor = 'k1-staff' ORDER BY audit_id DESC LIMIT 1`
    );
    expect(audit.rows[0].detail.task_ids).toEqual(tasks.map((t) => t.task_id));
  });

  it("shows a town its communities' tasks, with the overdue ones escalated, and nothing of another town", async () => {
    const { tasks } = await listFieldTasks(db.pool, users['town-a']);
    expect(new Set(tasks.map((t) => t.region_code))).toEqual(new Set([K1, K2]));
    expect(
      tasks
        .filter((t) => t.escalated)
        .map((t) => t.region_code)
        .sort()
    ).toEqual([K1, K1, K1, K2]);
    for (const t of tasks) expect(t.escalated).toBe(t.due_on! < today);
    const k2 = await listFieldTasks(db.pool, users['k2-staff']);
    expect(k2.tasks.map((t) => t.region_code)).toEqual([K2]);
  });

  it('refuses leaders, auditors, admins and district staff', async () => {
    for (const u of ['boss', 'auditor', 'k1-admin', 'district-staff'])
      await expect(fieldArea(db.pool, users[u]), u).rejects.toMatchObject({ status: 403, code: 'not_field_staff' });
    await expect(listFieldTasks(db.pool, users.auditor)).rejects.toMatchObject({ status: 403 });
    await expect(
      recordVisit(db.pool, users.boss, await taskOf(p.seen), { outcome: 'seen', visited_on: today, place: '家中' })
    ).rejects.toMatchObject({
      status: 403
    });
  });

  it("treats another community's task as not found, to read and to record, and changes nothing", async () => {
    const other = await taskOf(p.other);
    const before = await snapshot();
    await expect(fieldTask(db.pool, users['k1-staff'], other)).rejects.toMatchObject({ status: 404 });
    for (const input of [
      { outcome: 'seen', visited_on: today, place: '家中' },
      { outcome: 'not_found', visited_on: today, reason: 'moved', note: '已搬走' },
      { outcome: 'deceased', visited_on: today, death_date: today }
    ] as VisitInput[])
      await expect(recordVisit(db.pool, users['k1-staff'], other, input)).rejects.toMatchObject({ status: 404 });
    await expect(
      recordVisit(db.pool, users['k1-staff'], 999_999_999, { outcome: 'seen', visited_on: today, place: '家中' })
    ).rejects.toMatchObject({
      status: 404
    });
    expect(await snapshot()).toEqual(before);
    // the town above both may read it
    expect((await fieldTask(db.pool, users['town-a'], other)).task.region_code).toBe(K2);
  });

  it('shows the phone and address to the area staff only, and logs each view', async () => {
    const t = await taskOf(p.seen);
    const { task } = await fieldTask(db.pool, users['k1-staff'], t);
    expect(task.phone).toBe('13900001111');
    expect(task.residence).toBe('甲镇 · 东社区');
    const a = await db.pool.query(
      `SELECT actor, subject, detail FROM audit_log WHERE action = 'field.view_person' ORDER BY audit_id DESC LIMIT 1`
    );
    expect(a.rows[0]).toMatchObject({ actor: 'k1-staff', subject: p.seen, detail: { task_id: t } });
    await expect(fieldTask(db.pool, users['k2-staff'], t)).rejects.toMatchObject({ status: 404 });
  });
});

describe('recording visits', () => {
  it('refuses notes and places with an ID number or a phone number, with a clear message, and writes nothing', async () => {
    const t = await taskOf(p.seen);
    const before = await snapshot();
    await expect(
      recordVisit(db.pool, users['k1-staff'], t, { outcome: 'seen', visited_on: today, place: '家中', note: `核对身份证 ${p.seen}` })
    ).rejects.toMatchObject({ status: 400, code: 'note_has_id_number', message: expect.stringMatching(/身份证号.*ID number/) });
    await expect(
      recordVisit(db.pool, users['k1-staff'], t, { outcome: 'seen', visited_on: today, place: '女儿家 138 1234 5678' })
    ).rejects.toMatchObject({ status: 400, code: 'place_has_phone' });
    await expect(
      recordVisit(db.pool, users['k1-staff'], t, { outcome: 'seen', visited_on: daysAgo(-1), place: '家中' })
    ).rejects.toMatchObject({
      status: 400,
      code: 'future_date'
    });
    await expect(
      recordVisit(db.pool, users['k1-staff'], await taskOf(p.away), {
        outcome: 'not_found',
        visited_on: today,
        reason: 'abroad',
        note: 'x'
      })
    ).rejects.toMatchObject({ status: 400, code: 'invalid_reason' });
    expect(await snapshot()).toEqual(before);
  });

  it('"seen in person" closes the task and, after `yinling run all`, the person is certified by field visit; the task stays closed', async () => {
    const t = await taskOf(p.seen);
    const r = await recordVisit(db.pool, users['k1-staff'], t, {
      outcome: 'seen',
      visited_on: daysAgo(1),
      place: '家中',
      note: '身体尚可'
    });
    expect(r.certification_id).toBe(`yinling-visit-${r.visit_id}`);
    const cert = await db.pool.query(
      `SELECT method, result, operator, entered_by, file_id, to_char(certified_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS d
         FROM certifications WHERE certification_id = $1`,
      [r.certification_id]
    );
    expect(cert.rows[0]).toEqual({
      method: 'field_visit',
      result: 'pass',
      operator: 'k1-staff',
      entered_by: 'k1-staff',
      file_id: null,
      d: daysAgo(1)
    });
    const closed = await db.pool.query(`SELECT status, result FROM tasks WHERE task_id = $1`, [t]);
    expect(closed.rows[0]).toMatchObject({ status: 'done', result: { by: 'field_visit', outcome: 'seen', visit_id: r.visit_id } });
    await expect(recordVisit(db.pool, users['k1-staff'], t, { outcome: 'seen', visited_on: today, place: '家中' })).rejects.toMatchObject({
      status: 409
    });

    runAll();
    const cs = await db.pool.query(
      `SELECT status, method, rule, to_char(certified_at, 'YYYY-MM-DD') AS d, evidence_ids FROM cert_status WHERE id_number = $1`,
      [p.seen]
    );
    expect(cs.rows[0]).toEqual({
      status: 'certified',
      method: 'field_visit',
      rule: 'explicit_certification',
      d: daysAgo(1),
      evidence_ids: [r.certification_id]
    });
    const after = await db.pool.query(`SELECT task_id, status, result FROM tasks WHERE id_number = $1 AND kind = 'field_verification'`, [
      p.seen
    ]);
    expect(after.rows).toEqual([{ task_id: String(t), status: 'done', result: closed.rows[0].result }]);
    expect((await listFieldTasks(db.pool, users['k1-staff'])).tasks.map((x) => x.task_id)).not.toContain(t);
    const audit = await db.pool.query(`SELECT subject, detail FROM audit_log WHERE action = 'field.visit' ORDER BY audit_id DESC LIMIT 1`);
    expect(audit.rows[0]).toMatchObject({ subject: p.seen, detail: { task_id: t, outcome: 'seen' } });
  });

  it('"seen" on a report-in task records the report-in', async () => {
    const t = await taskOf(p.retiree, 'report_in');
    await recordVisit(db.pool, users['k1-staff'], t, { outcome: 'seen', visited_on: today, place: '社区服务站' });
    const a = await db.pool.query(
      `SELECT reported_in_at IS NOT NULL AS done FROM community_assignments WHERE id_number = $1 AND ended_on IS NULL`,
      [p.retiree]
    );
    expect(a.rows[0].done).toBe(true);
  });

  it('"deceased" opens the after-death case and a follow-up for the auditors, which a department record later closes', async () => {
    const t = await taskOf(p.dead);
    const r = await recordVisit(db.pool, users['k1-staff'], t, {
      outcome: 'deceased',
      visited_on: today,
      death_date: daysAgo(10),
      note: '邻居告知'
    });
    expect(r.case_created).toBe(true);
    const c = await db.pool.query(`SELECT status, region_code, detail FROM cases WHERE case_id = $1`, [r.case_id]);
    expect(c.rows[0]).toMatchObject({
      status: 'reported',
      region_code: K1,
      detail: { report: { reporter: 'k1-staff', via: 'field_visit', death_date: daysAgo(10) } }
    });
    const follow = await db.pool.query(`SELECT kind, department, status, detail FROM tasks WHERE case_id = $1`, [r.case_id]);
    expect(follow.rows).toEqual([
      {
        kind: 'review_field_visit',
        department: 'audit',
        status: 'open',
        detail: { why: 'found_deceased', field_task_id: t, death_date: daysAgo(10) }
      }
    ]);
    expect((await db.pool.query(`SELECT status FROM tasks WHERE task_id = $1`, [t])).rows[0].status).toBe('done');
    // a field account never sees the auditors' follow-up
    expect((await listFieldTasks(db.pool, users['town-a'])).tasks.map((x) => x.kind)).not.toContain('review_field_visit');
    // the civil-affairs record arrives: the case is confirmed and the follow-up done
    await db.pool.query(
      `INSERT INTO deaths (record_id, id_number, death_date, source, recorded_at) VALUES ('D-FIELD', $1, $2, 'civil_affairs', now() - interval '1 hour')`,
      [p.dead, daysAgo(10)]
    );
    runAll();
    expect((await db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [r.case_id])).rows[0].status).toBe('open');
    expect(
      (await db.pool.query(`SELECT status FROM tasks WHERE case_id = $1 AND kind = 'review_field_visit'`, [r.case_id])).rows[0].status
    ).toBe('done');
    expect((await db.pool.query(`SELECT status FROM tasks WHERE task_id = $1`, [t])).rows[0].status).toBe('done');
  });

  it('"not found" records the reason and note; the person stays uncertified', async () => {
    const t = await taskOf(p.away);
    await recordVisit(db.pool, users['k1-staff'], t, {
      outcome: 'not_found',
      visited_on: today,
      reason: 'nursing_home',
      note: '家属说住进养老院'
    });
    const v = await db.pool.query(`SELECT outcome, not_found_reason, note, recorded_by FROM field_visits WHERE task_id = $1`, [t]);
    expect(v.rows[0]).toEqual({
      outcome: 'not_found',
      not_found_reason: 'nursing_home',
      note: '家属说住进养老院',
      recorded_by: 'k1-staff'
    });
    expect((await db.pool.query(`SELECT status FROM cert_status WHERE id_number = $1`, [p.away])).rows[0].status).toBe('not_certified');
    // the next run leaves the lapse to rule 5: no second task for a lapse the staff answered, and the
    // person no longer awaits a field visit (C04)
    runAll();
    const after = await db.pool.query(`SELECT task_id, status FROM tasks WHERE id_number = $1 AND kind = 'field_verification'`, [p.away]);
    expect(after.rows).toEqual([{ task_id: String(t), status: 'done' }]);
    const now = await db.pool.query(`SELECT field_task_open FROM ind_person_now WHERE id_number = $1`, [p.away]);
    expect(now.rows).toEqual([{ field_task_open: false }]);
  });

  it('keeps closed tasks closed and visits unchanged in the database itself', async () => {
    const t = await taskOf(p.seen);
    await expect(db.pool.query(`UPDATE tasks SET status = 'open' WHERE task_id = $1`, [t])).rejects.toThrow(/cannot be reopened/);
    await expect(db.pool.query(`UPDATE field_visits SET note = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM field_visits`)).rejects.toThrow(/append-only/);
    await expect(
      db.pool.query(
        `INSERT INTO field_visits (task_id, id_number, region_code, outcome, visited_on, not_found_reason, note, recorded_by)
         VALUES ($1, $2, $3, 'not_found', $4, 'moved', '电话13812345678', 'x')`,
        [await taskOf(p.fresh), p.fresh, K1, today]
      )
    ).rejects.toThrow(/check constraint/);
  });
});

describe('the CLI and the demo account', () => {
  it('`yinling field list/record` act for a staff member through the same service and checks', async () => {
    const list = cli(['field', 'list', '--as', 'k1-staff']);
    expect(list.status, list.stderr).toBe(0);
    const t = await taskOf(p.fresh);
    expect(list.stdout).toContain(`#${t}\t`);
    expect(list.stdout).not.toContain(`#${await taskOf(p.other)}\t`);
    const refused = cli(['field', 'record', String(await taskOf(p.other)), '--as', 'k1-staff', '--outcome', 'seen', '--place', '家中']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/no such task in your area/);
    const ok = cli(['field', 'record', String(t), '--as', 'k1-staff', '--outcome', 'seen', '--place', '家中']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/seen recorded .*certification yinling-visit-\d+ \(field_visit\)/);
    const a = await db.pool.query(`SELECT detail FROM audit_log WHERE action = 'field.visit' ORDER BY audit_id DESC LIMIT 1`);
    expect(a.rows[0].detail.via).toMatch(/^cli:/);
  });

  it('creates the demo community account in the community with the most open field tasks, with a generated password', async () => {
    const busiest = await db.pool.query(
      `SELECT region_code FROM tasks WHERE status = 'open' AND department IN ('community', 'community_grid') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
    );
    const logins = await ensureDemoAccounts(db.pool);
    const demo = logins.find((l) => l.username === 'demo-field')!;
    expect(demo).toMatchObject({ role: 'staff', regionCode: busiest.rows[0].region_code });
    expect(demo.password).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect((await login(db.pool, 'demo-field', demo.password, { ip: '10.9.9.1' })).ok).toBe(true);
    const { tasks } = await listFieldTasks(db.pool, await staffByName(db.pool, 'demo-field'));
    expect(tasks.length).toBeGreaterThan(0);
  });
});

describe('isOverdue', () => {
  it('is due before today in Asia/Shanghai', () => {
    expect(isOverdue('2026-12-03', '2026-12-04')).toBe(true);
    expect(isOverdue('2026-12-04', '2026-12-04')).toBe(false);
    expect(isOverdue(null, '2026-12-04')).toBe(false);
    // 2026-12-04 17:00 UTC is already 12-05 in Shanghai: a task due 12-04 is overdue there
    expect(isOverdue('2026-12-04', todayShanghai(new Date('2026-12-04T17:00:00Z')))).toBe(true);
  });
});
