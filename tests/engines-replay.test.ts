// History can be replayed (docs/rules.md: every engine takes an as-of date). On the demo city: running
// the engines and the indicator facts at three month-ends and then at the as-of date, in order, leaves
// the state of a single run at the as-of date — the same active alerts with the same amounts and
// periods, the same certification of everyone, the same indicator facts for that date — and running
// an earlier date after a later one (then the later one again) breaks nothing. Run after an ingest,
// which has already run the engines as of "today", as an operator would meet it.
// The certification follow-ups included: what a run as of an earlier date recorded for a lapse that has
// since ended (a field task, a suspension) is history, and the "now" facts count the current lapse's
// only (docs/rules.md, "Follow-ups when certified again, and in replays"; tests/engines-follow-ups.test.ts
// checks each case on hand-built timelines).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity, type GroundTruth } from '../seeds/generator/index.ts';
import { loadConfig } from '../core/config.ts';
import { runWithDependents } from '../jobs/registry.ts';

const scale = process.env.YINLING_TEST_DEMO === '0' ? 'tiny' : 'demo';
let single: TestDatabase, replayed: TestDatabase;
let truth: GroundTruth;
let dir: string;

const monthStart = (iso: string, back: number) => {
  const [y, m] = iso.split('-').map(Number);
  const d = new Date(Date.UTC(y, m - 1 - back, 1));
  return d.toISOString().slice(0, 10);
};

async function ingestAndRun(db: TestDatabase, asOfs: string[]): Promise<void> {
  const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-replay-inbox-'));
  fs.cpSync(dir, inbox, { recursive: true });
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: inbox };
  try {
    // the ingest runs the engines and the facts as of today, as on a live system
    for (const r of await runWithDependents(db.pool, 'ingest', { config, inbox, trigger: 'manual', log: () => {} })) {
      if (r.status === 'failed') throw new Error(`ingest (run ${r.runId}): ${r.error}`);
    }
    for (const asOf of asOfs) {
      for (const r of await runWithDependents(db.pool, 'all', { config, asOf, trigger: 'manual', log: () => {} })) {
        if (r.status !== 'ok') throw new Error(`run ${r.runId} as of ${asOf}: ${r.error}`);
      }
    }
  } finally {
    fs.rmSync(inbox, { recursive: true, force: true });
  }
}

const q = async (db: TestDatabase, sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const activeAlerts = (db: TestDatabase) =>
  q(
    db,
    `SELECT rule, id_number, dedup_key, amount_at_risk, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x ORDER BY x) AS periods
     FROM alerts WHERE active ORDER BY rule, id_number, dedup_key`
  );
const certification = (db: TestDatabase) =>
  q(db, `SELECT id_number, status, method, certified_at, valid_until, rule, evidence_ids FROM cert_status ORDER BY id_number`);
const facts = async (db: TestDatabase, asOf: string) => ({
  months: await q(db, `SELECT * FROM ind_region_month ORDER BY period, region_code`),
  now: await q(db, `SELECT * FROM ind_region_now WHERE as_of = $1 ORDER BY period, region_code`, [asOf]),
  people: await q(db, `SELECT * FROM ind_person_now ORDER BY id_number`)
});
/** Bookkeeping columns that say when or by which run a row was written, not what it says. */
const drop = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => !/^(run_id|built_at|updated_at|created_at|last_seen_run)$/.test(k)))
  );

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `yinling-replay-${scale}-`));
  truth = await generateCity({ scale, seed: 3, outDir: dir });
  single = await freshDatabase();
  replayed = await freshDatabase();
}, 600_000);

afterAll(async () => {
  await single?.drop();
  await replayed?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe(`replaying history on the ${scale} city`, () => {
  it('month-ends in order leave the state of one run at the last date, and an earlier date run afterwards breaks nothing', async () => {
    const asOf = truth.asOf;
    const months = [monthStart(asOf, 3), monthStart(asOf, 2), monthStart(asOf, 1)];
    await ingestAndRun(single, [asOf]);
    // month-ends in order, then the as-of date; then an earlier date after the later one, and the later again
    await ingestAndRun(replayed, [...months, asOf, months[0], asOf]);

    const [a1, a2] = [await activeAlerts(single), await activeAlerts(replayed)];
    expect(a1.length).toBeGreaterThan(0);
    expect(a2).toEqual(a1);
    const [c1, c2] = [await certification(single), await certification(replayed)];
    expect(c1.length).toBeGreaterThan(100);
    expect(c2).toEqual(c1);
    const [f1, f2] = [await facts(single, asOf), await facts(replayed, asOf)];
    expect(f1.now.length).toBeGreaterThan(0);
    expect(drop(f2.months)).toEqual(drop(f1.months));
    // the follow-ups are there to compare: people awaiting a field visit and people suspended (C04, C06)
    const total = (k: string) => f1.now.reduce((n, r) => n + Number(r[k]), 0);
    expect(total('field_tasks_open')).toBeGreaterThan(0);
    expect(total('suspended_not_certified')).toBeGreaterThan(0);
    expect(drop(f2.now)).toEqual(drop(f1.now));
    expect(f1.people.length).toBeGreaterThan(0);
    expect(drop(f2.people)).toEqual(drop(f1.people));
  }, 900_000);
});
