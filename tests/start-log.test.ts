// The demo residents `npm start` prints (jobs/cli/start-log.ts): one person per situation, never the
// same person twice, on real PostgreSQL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, person, pid } from './engines-helpers.ts';
import { demoResidentLines } from '../jobs/cli/start-log.ts';

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
});
