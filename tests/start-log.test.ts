// The demo residents `npm start` prints (jobs/cli/start-log.ts): one person per situation, never the
// same person twice, on real PostgreSQL; the "spouse died" one made through the portal's own data (a
// death report filed through the service at demo start, naming the resident as the surviving spouse).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, person, pid } from './engines-helpers.ts';
import { demoResidentLines, fileDemoSpouseReport } from '../jobs/cli/start-log.ts';
import { runAfterDeath } from '../jobs/engines/index.ts';
import { mySurvivorCases } from '../core/workflow/death-reports.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-start-log-'));
});
afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('demo residents', () => {
  it('lists one person per situation, none twice', async () => {
    // two suspended people, both with a monthly subsidy to claim: the first is "suspended", the second the subsidy
    const ids = [pid('1940-01-01'), pid('1941-01-01')].sort();
    for (const id of ids) {
      await person(db.pool, id, { phone: '13800000000' });
      await enroll(db.pool, id, 'ENT', { status: 'suspended' });
    }
    await insert(
      db.pool,
      'subsidy_matches',
      ids.map((id) => ({
        project_code: 'AGE80',
        id_number: id,
        eligible: true,
        receiving: false,
        category: 'eligible_not_receiving',
        as_of: '2026-11-30'
      }))
    );
    const file = path.join(dir, 'residents.json');
    const lines = await demoResidentLines(db.pool, 'http://localhost:3000', file);
    const listed = JSON.parse(fs.readFileSync(file, 'utf8')) as { situation: string; id_number: string }[];
    expect(listed.map((r) => [r.situation, r.id_number])).toEqual([
      ['suspended', ids[0]],
      ['a subsidy to claim', ids[1]]
    ]);
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toContain(ids[0]); // masked on the terminal
  });

  it('files the demo death report through the service and lists the surviving spouse, once', async () => {
    const dead = pid('1938-03-03');
    const widow = pid('1940-04-04', 'F');
    const man = pid('1939-05-05'); // same sex as the deceased: never the spouse
    await person(db.pool, dead);
    await enroll(db.pool, dead, 'ENT');
    await person(db.pool, widow, { phone: '13900000001' });
    await enroll(db.pool, widow, 'ENT');
    await person(db.pool, man, { phone: '13900000002' });
    await enroll(db.pool, man, 'ENT');
    await insert(db.pool, 'deaths', [{ record_id: 'DS1', id_number: dead, death_date: '2026-09-20', source: 'civil_affairs' }]);
    const ad = await runAfterDeath(db.pool, { asOf: todayShanghai(), mode: 'full' });
    expect(ad.status, ad.error).toBe('ok');
    expect(await fileDemoSpouseReport(db.pool)).toBe(widow);
    expect(await fileDemoSpouseReport(db.pool)).toBeNull(); // a restart files no second report
    const k = await db.pool.query(`SELECT status, detail FROM cases WHERE kind = 'after_death' AND id_number = $1`, [dead]);
    expect(k.rows).toHaveLength(1);
    expect(k.rows[0].status).toBe('open'); // joined the confirmed case
    expect(k.rows[0].detail.further_reports).toEqual([
      expect.objectContaining({
        reporter_id: widow,
        relation: 'spouse',
        survivor: expect.stringContaining('spouse'),
        bank_account: `A-${widow}`
      })
    ]);
    // no hold and no workbench item: a department record confirmed the death already
    expect((await db.pool.query(`SELECT 1 FROM alerts WHERE rule = 'reported_death'`)).rowCount).toBe(0);
    const file = path.join(dir, 'residents-2.json');
    await demoResidentLines(db.pool, 'http://localhost:3000', file);
    const listed = JSON.parse(fs.readFileSync(file, 'utf8')) as { situation: string; id_number: string }[];
    expect(listed.find((r) => r.situation === 'whose spouse died')?.id_number).toBe(widow);
    // what their portal shows: the case, the funeral grant for a pension scheme, the steps
    const [c] = await mySurvivorCases(db.pool, widow);
    expect(c).toMatchObject({ status: 'open', death_date: '2026-09-20', funeral_grant: '5000.00', grant_task: 'open' });
    expect(await mySurvivorCases(db.pool, man)).toEqual([]);
  });
});
