// Every number traceable to rows: the list of people behind a drillable indicator has exactly as
// many people as the board shows, for the month the board shows (the default month and an earlier
// one), in the whole city (people whose area is unknown included) and in one community. Month-grain
// stocks (P01, P04's numerator, P05) list the people counted in that month; "now" counts list the
// people of the latest snapshot, whatever month is shown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { refreshRollups } from '../jobs/rollups.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { addMonths, buildBoard, indicatorDefs, type Board, type IndicatorValue } from '../dashboard/lib/server/indicators.ts';
import { monthFilters, peopleBehind, PEOPLE_VIEW } from '../dashboard/lib/server/people.ts';
import { securityContext } from '../dashboard/lib/server/scope.ts';
import { regionByCode, type Caller, type Region } from '../dashboard/lib/server/scope.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let dir: string;
let city: Caller;
let community: Region;
let board: Board;
let earlier: string;

const noLog = () => {};
const ind = (b: Board, code: string) => b.indicators.find((i) => i.code === code)!;

/** The number of people behind an indicator's value: P04 is a share of P01, its list is the numerator. */
function peopleCount(b: Board, i: IndicatorValue): number | null {
  if (i.value === null) return null;
  if (i.unit !== '%') return i.value;
  const base = ind(b, 'P01').value;
  return base === null ? null : Math.round((i.value * base) / 100);
}

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-drill-'));
  const truth = await generateCity({ scale: 'tiny', seed: 7, outDir: dir });
  await ingestInbox(db.pool, { inbox: dir });
  await refreshRollups(db.pool, { runId: 0, job: 'test', asOf: null, log: noLog, count: noLog });
  expect((await runAllEngines(db.pool, { asOf: truth.asOf })).status).toBe('ok');
  // Some people whose area is unknown (they count in the city, in no district): current and former
  // recipients, and one living outside the city.
  const ex = `SELECT e.id_number FROM enrollments e JOIN ref_schemes s ON s.scheme_code = e.scheme_code AND s.exclusive_group IS NOT NULL`;
  await db.pool.query(`UPDATE persons SET residence_region = NULL, hukou_region = '000000000000' WHERE id_number IN (
    (${ex} WHERE e.end_period IS NULL AND e.status = 'active' ORDER BY 1 LIMIT 2) UNION (${ex} WHERE e.end_period IS NOT NULL ORDER BY 1 LIMIT 2)
    UNION (${ex} JOIN persons p ON p.id_number = e.id_number WHERE p.residence_outside IS NOT NULL ORDER BY 1 LIMIT 1))`);
  await buildIndicatorFacts(db.pool, truth.asOf);
  engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'test-secret',
    log: noLog
  });
  const r = await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city'`);
  city = { kind: 'staff', name: 'leader', role: 'leader', scope: r.rows[0], privacy: false };
  board = await buildBoard(engine, db.pool, city, city.scope, null);
  // An earlier month with people whose pension ended since (so "now" and that month differ).
  earlier = board.periods.includes(addMonths(board.period, -6)) ? addMonths(board.period, -6) : board.periods[0];
  // The community with the most recipients in the month shown.
  const c = await db.pool.query(
    `SELECT region_code FROM ind_region_month m JOIN region_paths rp ON rp.code = m.region_code
    WHERE rp.level = 'community' AND m.period = $1::date ORDER BY m.recipients DESC, m.region_code LIMIT 1`,
    [board.period + '-01']
  );
  community = (await regionByCode(db.pool, c.rows[0].region_code))!;
}, 240_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the people behind a number', () => {
  it('has test data that tells the months apart', async () => {
    expect(earlier < board.period).toBe(true);
    // Some recipient of the earlier month no longer is one, and someone whose area is unknown receives.
    const ended = await db.pool.query(`SELECT sum(exits)::int AS n FROM ind_region_month WHERE period >= $1::date AND period <= $2::date`, [
      earlier + '-01',
      board.period + '-01'
    ]);
    expect(ended.rows[0].n).toBeGreaterThan(0);
    const unknown = await db.pool.query(
      `SELECT sum(recipients)::int AS n FROM ind_region_month WHERE region_code = '' AND period = $1::date`,
      [board.period + '-01']
    );
    expect(unknown.rows[0].n).toBeGreaterThan(0);
    expect(ind(board, 'P01').value).not.toBe(ind(await buildBoard(engine, db.pool, city, city.scope, earlier), 'P01').value);
  });

  for (const where of ['city', 'community'] as const) {
    for (const which of ['default', 'earlier'] as const) {
      it(`lists as many people as every drillable indicator shows (${where}, ${which} month)`, async () => {
        const region = where === 'city' ? city.scope : community;
        const period = which === 'default' ? board.period : earlier;
        const b = await buildBoard(engine, db.pool, city, region, period);
        expect(b.period).toBe(period);
        // "now" counts are the latest snapshot's, whatever month is shown: compare with the default board's.
        const now = which === 'default' ? b : await buildBoard(engine, db.pool, city, region, null);
        const drillable = b.indicators.filter((i) => i.drillable);
        expect(drillable.map((i) => i.code)).toEqual(expect.arrayContaining(['P01', 'P04', 'P05', 'C05']));
        const mismatches: string[] = [];
        for (const i of drillable) {
          const shown = i.grain === 'now' ? peopleCount(now, ind(now, i.code)) : peopleCount(b, i);
          const list = await peopleBehind(engine, db.pool, city, region, i.code, { offset: 0, limit: 1, unmask: false, period });
          if (list.total !== (shown ?? 0)) mismatches.push(`${i.code} ${i.grain}: board ${shown}, list ${list.total}`);
        }
        expect(mismatches).toEqual([]);
        expect(peopleCount(b, ind(b, 'P01'))).toBeGreaterThan(0);
      }, 120_000);
    }
  }

  it('reproduces the month stocks of every month and area of the window from the rows (unknown area included)', async () => {
    const column: Record<string, string> = { P01: 'recipients', P04: 'aged80', P05: 'living_outside' };
    const facts = await db.pool.query(`SELECT to_char(period, 'YYYY-MM') AS period, region_code, recipients, aged80, living_outside
      FROM ind_region_month WHERE recipients + aged80 + living_outside > 0`);
    const monthly = indicatorDefs(engine).filter((d) => d.meta.drill && d.meta.grain !== 'now');
    expect(monthly.map((d) => d.code).sort()).toEqual(['P01', 'P04', 'P05']);
    for (const d of monthly) {
      for (const period of board.periods) {
        const r = (await engine.load(
          {
            measures: [`${PEOPLE_VIEW}.count`],
            dimensions: [`${PEOPLE_VIEW}.region_code`],
            filters: monthFilters(d.meta.drill!.month!, period),
            limit: 50000
          },
          securityContext(city)
        )) as { data: Record<string, string>[] };
        const fromRows = Object.fromEntries(r.data.map((x) => [x[`${PEOPLE_VIEW}.region_code`], Number(x[`${PEOPLE_VIEW}.count`])]));
        const fromFacts = Object.fromEntries(
          facts.rows
            .filter((x) => x.period === period && Number(x[column[d.code]]) > 0)
            .map((x) => [x.region_code, Number(x[column[d.code]])])
        );
        expect(fromRows, `${d.code} ${period}`).toEqual(fromFacts);
      }
    }
  }, 120_000);

  it('pages through a list in a stable order: area, then birth date, then ID number', async () => {
    const auditor: Caller = { ...city, name: 'auditor', role: 'auditor' };
    const page = async (offset: number, limit: number) =>
      (await peopleBehind(engine, db.pool, auditor, community, 'P01', { offset, limit, unmask: true })).rows.map((r) => r.id_number);
    const month = board.period + '-01';
    const expected = (
      await db.pool.query(
        `SELECT n.id_number FROM ind_person_now n JOIN persons p ON p.id_number = n.id_number
      WHERE n.region_path LIKE $1 || '%' AND n.recipient_from <= $2::date AND (n.recipient_until IS NULL OR n.recipient_until >= $2::date)
      ORDER BY n.region_path, p.birth_date, n.id_number`,
        [community.path, month]
      )
    ).rows.map((r) => r.id_number);
    expect(expected.length).toBeGreaterThan(20);
    expect([...(await page(0, 10)), ...(await page(10, 10))]).toEqual(expected.slice(0, 20));
    expect(await page(0, expected.length)).toEqual(expected);
  });

  it("shows each list's own columns from the model: when a recipient started (P01), when an 80+ person turned 80 (P04)", async () => {
    const month = board.period;
    const p01 = await peopleBehind(engine, db.pool, city, community, 'P01', { offset: 0, limit: 1000, unmask: false, period: month });
    expect(p01.columns).toEqual([{ key: 'recipient_from', title_zh: '领取起始月', title_en: 'Recipient since' }]);
    expect(p01.rows.length).toBeGreaterThan(0);
    // Every recipient of the month started in it or before — the value is the row's, not decoration.
    for (const r of p01.rows) expect(r.columns.recipient_from! <= month, `${r.columns.recipient_from} ≤ ${month}`).toBe(true);
    const p04 = await peopleBehind(engine, db.pool, city, city.scope, 'P04', { offset: 0, limit: 1000, unmask: false, period: month });
    expect(p04.columns.map((c) => c.key)).toEqual(['turns80']);
    expect(p04.rows.length).toBeGreaterThan(0);
    for (const r of p04.rows) expect(r.columns.turns80! <= month, `${r.columns.turns80} ≤ ${month}`).toBe(true);
  });

  it('shows on each "now" list the date that puts a person on it, as the engines recorded it', async () => {
    const asOf = (await db.pool.query(`SELECT to_char(max(as_of), 'YYYY-MM-DD') AS d FROM ind_person_now`)).rows[0].d as string;
    const firstMonth = (await db.pool.query(`SELECT to_char(min(period), 'YYYY-MM') AS m FROM payments`)).rows[0].m as string;
    const auditor: Caller = { ...city, name: 'auditor', role: 'auditor' };
    const list = async (code: string) => {
      // every page of the city's list (a page holds at most 1,000)
      const first = await peopleBehind(engine, db.pool, auditor, city.scope, code, { offset: 0, limit: 1000, unmask: true });
      for (let offset = 1000; offset < first.total; offset += 1000) {
        first.rows.push(...(await peopleBehind(engine, db.pool, auditor, city.scope, code, { offset, limit: 1000, unmask: true })).rows);
      }
      return first;
    };
    const fromDb = async (sql: string) => new Map((await db.pool.query(sql)).rows.map((r) => [r.id_number as string, r.v as string]));
    const cases: [string, string, string, (v: string) => boolean][] = [
      [
        'C04',
        'field_task_since',
        // the day the rules issue the field task of the person's current lapse (the day of the lapse),
        // "before <first month>" when that lies before the data began, as for C06
        `WITH f AS (SELECT min(period) AS first FROM payments)
         SELECT e.id_number, CASE WHEN e.event_date < (SELECT first FROM f) THEN 'before ' || to_char((SELECT first FROM f), 'YYYY-MM')
                                  ELSE to_char(e.event_date, 'YYYY-MM-DD') END AS v
           FROM cert_events e JOIN cert_status s ON s.id_number = e.id_number AND e.cycle_key = s.lapsed_on - 1
          WHERE e.kind = 'field_task'`,
        (v) => (v.startsWith('before ') ? v === `before ${firstMonth}` : v >= `${firstMonth}-01` && v <= asOf)
      ],
      [
        'C05',
        'cert_valid_until',
        `SELECT id_number, to_char(COALESCE(valid_until, last_valid_until), 'YYYY-MM-DD') AS v FROM cert_status`,
        (v) => v < asOf
      ],
      [
        'C06',
        'suspended_since',
        // a suspension dated before the first month of data (a person never certified in it: the engine
        // dates the lapse at the benefit's start, 1995) is a date the system cannot know: "before <that month>"
        `WITH f AS (SELECT min(period) AS first FROM payments)
         SELECT e.id_number, CASE WHEN e.event_date < (SELECT first FROM f) THEN 'before ' || to_char((SELECT first FROM f), 'YYYY-MM')
                                  ELSE to_char(e.event_date, 'YYYY-MM-DD') END AS v
           FROM cert_events e JOIN cert_status s ON s.id_number = e.id_number AND e.cycle_key = s.lapsed_on - 1
          WHERE e.kind = 'suspension' AND e.reason = 'not_certified'`,
        (v) => (v.startsWith('before ') ? v === `before ${firstMonth}` : v >= `${firstMonth}-01` && v <= asOf)
      ],
      ['P07', 'retirement_month', `SELECT id_number, to_char(retirement_month, 'YYYY-MM') AS v FROM retirements`, (v) => v > board.period]
    ];
    const befores: string[] = [];
    for (const [code, column, sql, plausible] of cases) {
      const l = await list(code);
      expect(
        l.columns.map((c) => c.key),
        code
      ).toEqual([column]);
      expect(l.rows.length, `${code} has people in the test data`).toBeGreaterThan(0);
      const truth = await fromDb(sql);
      for (const r of l.rows) {
        const v = r.columns[column]!;
        expect(v, `${code} ${r.id_number}`).toBe(truth.get(r.id_number!));
        expect(plausible(v), `${code} ${r.id_number} ${column} ${v} (as of ${asOf})`).toBe(true);
        if (v.startsWith('before ')) befores.push(v);
      }
    }
    // the synthetic city has such people: the case is exercised, not only allowed
    expect(befores.length, 'suspended before the data began').toBeGreaterThan(0);
  });

  it('refuses a page outside the bounds with a 400, not a database error', async () => {
    for (const page of [
      { offset: 1e21, limit: 10 },
      { offset: -1, limit: 10 },
      { offset: 0.5, limit: 10 },
      { offset: 0, limit: 0 },
      { offset: 0, limit: 5000 }
    ]) {
      await expect(peopleBehind(engine, db.pool, city, community, 'P01', { ...page, unmask: false })).rejects.toMatchObject({
        status: 400,
        code: 'bad_page'
      });
    }
  });

  it('defaults to the month the board shows by default', async () => {
    const list = await peopleBehind(engine, db.pool, city, city.scope, 'P01', { offset: 0, limit: 1, unmask: false });
    expect(list.total).toBe(ind(board, 'P01').value);
  });
});
