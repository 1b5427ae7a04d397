// Personal data through the semantic layer (semantic-layer/engine/personal-rule.js): the engine
// masks personal members (meta.personal) for every caller except an auditor or admin whose
// token carries `unmask: true`; those reads go through the audit hook. Nobody without the right
// may filter or order on a personal member (403), so a filter cannot become an oracle for
// guessing ID numbers. cube.js (real Cube) refuses personal members outright for them.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { ROOT } from '../core/config.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';
import { maskIdNumber, maskName } from '../core/domain/masking.ts';
import { createSemanticEngine, type PersonalDataEvent, type ResultObject, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { applyPersonalRule, checkPersonalQuery, mayReadPersonal, personalMembersTouched } from '../semantic-layer/engine/personal-rule.js';
import { peopleBehind, recentAlerts } from '../dashboard/lib/server/people.ts';
import { personalDataAuditor, regionByCode, securityContext, type Caller } from '../dashboard/lib/server/scope.ts';

const MODEL_DIR = path.join(ROOT, 'semantic-layer', 'model');
const SECRET = 'test-secret-personal';
let db: TestDatabase;
let engine: SemanticEngine;
const events: PersonalDataEvent[] = [];

const CTX = {
  leader: { role: 'leader', region_code: '330600', region_level: 'city', user: 'li', kind: 'staff' },
  leaderAsking: { role: 'leader', region_code: '330600', region_level: 'city', user: 'li', kind: 'staff', unmask: true },
  auditor: { role: 'auditor', region_code: '330600', region_level: 'city', user: 'wang', kind: 'staff' },
  auditorUnmask: { role: 'auditor', region_code: '330600', region_level: 'city', user: 'wang', kind: 'staff', unmask: true },
  districtAuditor: { role: 'auditor', region_code: '330602', region_level: 'district', user: 'zhao', kind: 'staff', unmask: true }
};

const PEOPLE = [
  { id: makeIdNumber('330602', '1950-03-01', 11), name: '张三', community: '330602001001' },
  { id: makeIdNumber('330602', '1948-07-15', 22), name: '欧阳小明', community: '330602001001' },
  { id: makeIdNumber('330603', '1955-11-30', 33), name: '李四', community: '330603001001' }
];
const ids = PEOPLE.map((p) => p.id);
const names = PEOPLE.map((p) => p.name);

beforeAll(async () => {
  db = await freshDatabase();
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  for (const [code, name, level, parent] of [
    ['330600', '市', 'city', null],
    ['330602', '甲区', 'district', '330600'],
    ['330602001', '甲街道', 'town', '330602'],
    ['330602001001', '甲社区', 'community', '330602001'],
    ['330603', '乙区', 'district', '330600'],
    ['330603001', '乙街道', 'town', '330603'],
    ['330603001001', '乙社区', 'community', '330603001']
  ])
    await q(`INSERT INTO regions (code, name, level, parent_code) VALUES ($1, $2, $3, $4)`, [code, name, level, parent]);
  await q(`REFRESH MATERIALIZED VIEW region_paths`);
  for (const p of PEOPLE) {
    await q(
      `INSERT INTO persons (id_number, name, sex, birth_date, hukou_region, residence_region, status) VALUES ($1, $2, 'M', $3, $4, $4, 'retired')`,
      [p.id, p.name, `${p.id.slice(6, 10)}-${p.id.slice(10, 12)}-${p.id.slice(12, 14)}`, p.community]
    );
    await q(
      `INSERT INTO ind_person_now (as_of, id_number, region_code, region_path, district_code, town_code, recipient, aged80, living_outside,
        community_managed, insured, reaching_retirement, cert_valid, certified, certified_silent, field_task_open, cert_expired,
        suspended_not_certified, weak_only, hardship, eligible_not_receiving, recipient_from, recipient_from_month)
      SELECT current_date, $1, code, path, district_code, town_code, true, false, false, true, false, false, true, true, true, false, false, false, false, false, false,
             DATE '2020-01-01', '2020-01'
        FROM region_paths WHERE code = $2`,
      [p.id, p.community]
    );
    await q(
      `INSERT INTO alerts (rule, id_number, severity, status, amount_at_risk, region_code) VALUES ('paid_after_death', $1, 'high', 'new', 1234.5, $2)`,
      [p.id, p.community]
    );
  }
  engine = createSemanticEngine({
    modelDir: MODEL_DIR,
    pool: db.pool,
    apiSecret: SECRET,
    log: () => {},
    onPersonalData: async (e) => {
      events.push(e);
      await personalDataAuditor(db.pool)(e);
    }
  });
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

async function http(
  query: unknown,
  ctx: Record<string, unknown>,
  route = 'load'
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = `http://localhost/cubejs-api/v1/${route}?query=${encodeURIComponent(JSON.stringify(query))}`;
  const res = await engine.handle(new Request(url, { headers: { authorization: await engine.token(ctx) } }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const data = (body: Record<string, unknown>) => body.data as Record<string, string | null>[];
const auditRows = async () =>
  (await db.pool.query(`SELECT actor_type, actor, action, subject, detail FROM audit_log ORDER BY audit_id`)).rows;

const PEOPLE_QUERY = {
  dimensions: ['audit_people.id_number', 'audit_people.name', 'audit_people.region_name'],
  order: [['audit_people.list_order', 'asc']]
};

describe('personal data in results', () => {
  it('comes back masked to a leader, through every view, in every response format; the cubes themselves are not queryable', async () => {
    const before = (await auditRows()).length;
    const r = await http(PEOPLE_QUERY, CTX.leader);
    expect(r.status).toBe(200);
    const rows = data(r.body);
    expect(rows).toHaveLength(3);
    expect(rows.map((x) => x['audit_people.id_number']).sort()).toEqual(ids.map(maskIdNumber).sort());
    expect(rows.map((x) => x['audit_people.name']).sort()).toEqual(names.map((n) => maskName(n)).sort());
    for (const x of rows) expect(x['audit_people.id_number']).toContain('*');

    // Every cube is public: false (Cube's style guide): only the views per audience answer.
    for (const auditor of [CTX.leader, CTX.auditorUnmask]) {
      const raw = await http({ dimensions: ['people_now.region_name', 'people_now.sex'] }, auditor);
      expect(raw.status).toBe(400);
      expect(String(raw.body.error)).toMatch(/hidden member/);
    }
    const alerts = await http({ dimensions: ['audit_alerts.alert_id', 'audit_alerts.id_number', 'audit_alerts.name'] }, CTX.leader);
    expect(
      data(alerts.body)
        .map((x) => x['audit_alerts.name'])
        .sort()
    ).toEqual(names.map((n) => maskName(n)).sort());
    expect(data(alerts.body).some((x) => ids.includes(x['audit_alerts.id_number']!))).toBe(false);

    const compact = await http({ ...PEOPLE_QUERY, responseFormat: 'compact' }, CTX.leader);
    const d = compact.body.data as { members: string[]; dataset: string[][] };
    const col = d.members.indexOf('audit_people.id_number');
    expect(d.dataset.every((row) => row[col].includes('*'))).toBe(true);
    // The official client's multi form too.
    const multi = (await engine.load(PEOPLE_QUERY, CTX.leader, { queryType: 'multi' })) as { results: ResultObject[] };
    expect((multi.results[0].data as Record<string, string>[]).every((x) => x['audit_people.id_number'].includes('*'))).toBe(true);
    expect((await auditRows()).length).toBe(before);
  });

  it("masks a drill-down (the measure's drill members, ungrouped)", async () => {
    const meta = engine.meta().cubes.find((c) => c.name === 'audit_alerts')!;
    const drill = meta.measures.find((m) => m.name === 'audit_alerts.count')!.drillMembers as string[];
    expect(drill).toEqual(expect.arrayContaining(['audit_alerts.id_number', 'audit_alerts.name']));
    const r = await http(
      { dimensions: drill, ungrouped: true, filters: [{ member: 'audit_alerts.rule', operator: 'equals', values: ['paid_after_death'] }] },
      CTX.leader
    );
    expect(r.status).toBe(200);
    expect(data(r.body)).toHaveLength(3);
    for (const x of data(r.body)) {
      expect(x['audit_alerts.id_number']).toContain('*');
      expect(names).not.toContain(x['audit_alerts.name']);
    }
    const people = engine
      .meta()
      .cubes.find((c) => c.name === 'audit_people')!
      .measures.find((m) => m.name === 'audit_people.count')!.drillMembers as string[];
    expect(people).toContain('audit_people.id_number');
    const p = await http({ dimensions: people, ungrouped: true }, CTX.leader);
    expect(data(p.body).length).toBeGreaterThan(0);
    expect(data(p.body).every((x) => x['audit_people.id_number']!.includes('*'))).toBe(true);
  });

  it('stays masked for an auditor who did not ask, and for a leader who claims unmask', async () => {
    for (const ctx of [CTX.auditor, CTX.leaderAsking]) {
      const r = await http(PEOPLE_QUERY, ctx);
      expect(data(r.body).every((x) => x['audit_people.id_number']!.includes('*') && !names.includes(x['audit_people.name']!))).toBe(true);
    }
    expect(mayReadPersonal(CTX.leaderAsking)).toBe(false);
    expect(mayReadPersonal({ ...CTX.auditor, unmask: 'true' })).toBe(false);
    expect(mayReadPersonal(CTX.auditorUnmask)).toBe(true);
    expect(mayReadPersonal({ ...CTX.auditorUnmask, role: 'admin' })).toBe(true);
  });

  it('is unmasked for an auditor with unmask, within the area, and audit-logged once per result', async () => {
    const before = (await auditRows()).length;
    events.length = 0;
    const r = await http(PEOPLE_QUERY, CTX.auditorUnmask);
    expect(
      data(r.body)
        .map((x) => x['audit_people.id_number'])
        .sort()
    ).toEqual([...ids].sort());
    expect(
      data(r.body)
        .map((x) => x['audit_people.name'])
        .sort()
    ).toEqual([...names].sort());
    for (const x of data(r.body)) expect(x['audit_people.id_number']).toMatch(/^\d{17}[\dX]$/);
    const log = (await auditRows()).slice(before);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      actor_type: 'staff',
      actor: 'wang',
      action: 'unmask.semantic',
      subject: 'audit_people.id_number,audit_people.name',
      detail: { role: 'auditor', region_code: '330600', rows: 3 }
    });
    expect(events).toHaveLength(1);

    const district = await http(PEOPLE_QUERY, CTX.districtAuditor);
    expect(
      data(district.body)
        .map((x) => x['audit_people.id_number'])
        .sort()
    ).toEqual(ids.slice(0, 2).sort());
    // Nothing personal in the result → nothing to log.
    const n = (await auditRows()).length;
    await http({ measures: ['audit_people.count'] }, CTX.auditorUnmask);
    await http(
      { dimensions: ['audit_people.id_number'], filters: [{ member: 'audit_people.id_number', operator: 'equals', values: ['none'] }] },
      CTX.auditorUnmask
    );
    expect((await auditRows()).length).toBe(n);
  });

  it('withholds unmasked data when the audit hook fails', async () => {
    const failing = createSemanticEngine({
      modelDir: MODEL_DIR,
      pool: db.pool,
      apiSecret: SECRET,
      log: () => {},
      onPersonalData: () => {
        throw new Error('audit log unavailable');
      }
    });
    const res = await failing.handle(
      new Request(`http://localhost/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(PEOPLE_QUERY))}`, {
        headers: { authorization: await failing.token(CTX.auditorUnmask) }
      })
    );
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain(ids[0]);
  });
});

describe('personal data in filters and order keys', () => {
  const hostile = [
    {
      dimensions: ['audit_people.sex'],
      measures: ['audit_people.count'],
      filters: [{ member: 'audit_people.id_number', operator: 'equals', values: [ids[0]] }]
    },
    { measures: ['audit_people.count'], filters: [{ member: 'audit_people.id_number', operator: 'startsWith', values: ['3306021950'] }] },
    {
      measures: ['audit_people.count'],
      filters: [
        {
          or: [
            { member: 'audit_people.region_code', operator: 'set' },
            { member: 'audit_people.name', operator: 'contains', values: ['张'] }
          ]
        }
      ]
    },
    { measures: ['audit_alerts.count'], filters: [{ and: [{ member: 'audit_alerts.id_number', operator: 'gt', values: ['3306'] }] }] },
    { measures: ['alerts.count'], filters: [{ dimension: 'alerts.name', operator: 'set' }] },
    { dimensions: ['audit_people.region_name'], order: [['audit_people.id_number', 'asc']] },
    { dimensions: ['audit_people.region_name'], order: { 'people_now.name': 'desc' } }
  ];

  it('are refused (403) to a leader and to an auditor without unmask — /load, /sql and /dry-run alike', async () => {
    for (const q of hostile) {
      for (const ctx of [CTX.leader, CTX.auditor]) {
        for (const route of ['load', 'sql', 'dry-run']) {
          const r = await http(q, ctx, route);
          expect(r.status, `${route} ${JSON.stringify(q)}`).toBe(403);
          expect(String(r.body.error)).toMatch(/personal data/);
        }
      }
    }
    // A leader's filter on id_number through the server API too.
    await expect(engine.load(hostile[0], CTX.leader)).rejects.toMatchObject({ status: 403 });
  });

  it('are allowed to an auditor with unmask', async () => {
    const r = await http(hostile[0], CTX.auditorUnmask);
    expect(r.status).toBe(200);
    expect(data(r.body)).toEqual([{ 'audit_people.sex': 'M', 'audit_people.count': '1' }]);
  });

  it('never default-order by a personal dimension for callers without the right', async () => {
    const q = { dimensions: ['audit_people.id_number', 'audit_people.region_name'] };
    const r = await http(q, CTX.leader);
    expect(r.status).toBe(200);
    expect((r.body.query as { order: unknown }).order).toEqual([{ id: 'audit_people.region_name', desc: false }]);
    const only = await http({ dimensions: ['audit_people.name'] }, CTX.leader, 'sql');
    expect((only.body.sql as { order: unknown }).order).toEqual({});
    expect((only.body.sql as { sql: [string] }).sql[0]).not.toMatch(/AS "people_now"[^]*ORDER BY/i);
    const auditor = await http(q, CTX.auditorUnmask, 'sql');
    expect((auditor.body.sql as { order: Record<string, string> }).order).toEqual({ 'audit_people.id_number': 'asc' });
  });

  it('the shared rule reports where a query names personal members', () => {
    const personal = engine.personalMembers;
    expect(
      personalMembersTouched(
        {
          dimensions: ['audit_people.name'],
          filters: [{ or: [{ member: 'people_now.id_number', operator: 'set' }] }],
          order: [['alerts.name', 'asc']],
          timeDimensions: []
        },
        personal
      )
    ).toEqual({ selected: ['audit_people.name'], filtered: ['people_now.id_number'], ordered: ['alerts.name'] });
    expect(checkPersonalQuery({ dimensions: ['audit_people.name'] }, CTX.leader, personal)).toEqual({
      unmasked: false,
      selected: ['audit_people.name']
    });
    expect(() =>
      checkPersonalQuery(
        { measures: ['alerts.count'], filters: [{ member: 'alerts.id_number', operator: 'equals', values: ['x'] }] },
        CTX.leader,
        personal
      )
    ).toThrow(/personal data/);
  });
});

describe("the dashboard's people lists", () => {
  let city: Caller;
  beforeAll(async () => {
    city = { kind: 'staff', name: 'li', role: 'leader', scope: (await regionByCode(db.pool, '330600'))!, privacy: false };
  });

  it('get masked rows from the engine for a leader, without an audit entry', async () => {
    const before = (await auditRows()).length;
    const list = await peopleBehind(engine, db.pool, city, city.scope, 'P01', { offset: 0, limit: 10, unmask: false });
    expect(list.masked).toBe(true);
    expect(list.total).toBe(3);
    for (const p of list.rows) expect(p.id_number).toMatch(/^\d{4}\*{12}[\dX]{2}$/);
    expect(list.rows.map((p) => p.name).sort()).toEqual(names.map((n) => maskName(n)).sort());
    const alerts = await recentAlerts(engine, city, city.scope, 10);
    expect(alerts.rows.map((a) => a.name).sort()).toEqual(names.map((n) => maskName(n)).sort());
    expect((await auditRows()).length).toBe(before);
    expect(securityContext(city, { unmask: true }).unmask).toBeUndefined();
  });

  it("unmask for an auditor who asks, with exactly one audit entry (its own, not the engine's generic one)", async () => {
    const before = (await auditRows()).length;
    const auditor: Caller = { ...city, name: 'wang', role: 'auditor' };
    const list = await peopleBehind(engine, db.pool, auditor, city.scope, 'P01', { offset: 0, limit: 10, unmask: true, ip: '10.0.0.9' });
    expect(list.masked).toBe(false);
    expect(list.rows.map((p) => p.id_number).sort()).toEqual([...ids].sort());
    const log = (await auditRows()).slice(before);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ actor: 'wang', action: 'unmask.people', subject: 'P01' });
    expect((log[0].detail as { ids: string[] }).ids.sort()).toEqual([...ids].sort());
    // Pages are stable without ordering on a personal member.
    const page1 = await peopleBehind(engine, db.pool, auditor, city.scope, 'P01', { offset: 0, limit: 2, unmask: false });
    const page2 = await peopleBehind(engine, db.pool, auditor, city.scope, 'P01', { offset: 2, limit: 2, unmask: false });
    expect(page1.rows).toHaveLength(2);
    expect(page2.rows).toHaveLength(1);
    expect(page1.masked).toBe(true);
  });
});

describe('semantic-layer/cube.js (real Cube) with the personal rule', () => {
  type Rewrite = (q: Record<string, unknown>, ctx: { securityContext: unknown }) => Promise<Record<string, unknown>>;
  let queryRewrite: Rewrite;
  let logged: unknown[];
  beforeAll(async () => {
    const saved = process.env.YINLING_MODEL_DIR;
    process.env.YINLING_MODEL_DIR = MODEL_DIR;
    const mod = (await import(/* @vite-ignore */ pathToFileURL(path.join(ROOT, 'semantic-layer', 'cube.js')).href)) as {
      default: { queryRewrite: Rewrite };
      personalDataLog: { write(e: unknown): void };
    };
    process.env.YINLING_MODEL_DIR = saved;
    queryRewrite = mod.default.queryRewrite;
    logged = [];
    mod.personalDataLog.write = (e) => logged.push(e);
  });

  it('refuses any personal member to callers without the right, selected or filtered (403)', async () => {
    for (const q of [
      { dimensions: ['people_now.id_number'] },
      { dimensions: ['audit_people.name'], measures: ['audit_people.count'] },
      { measures: ['audit_alerts.count'], filters: [{ member: 'audit_alerts.id_number', operator: 'equals', values: [ids[0]] }] },
      { dimensions: ['alerts.rule'], order: [['alerts.name', 'asc']] }
    ]) {
      for (const ctx of [CTX.leader, CTX.auditor, CTX.leaderAsking]) {
        await expect(queryRewrite(q, { securityContext: ctx })).rejects.toMatchObject({ status: 403 });
      }
    }
  });

  it('passes the rest, with the region rule, and logs unmasked personal queries', async () => {
    const district = { role: 'leader', region_code: '330602', region_level: 'district' };
    expect(await queryRewrite({ measures: ['screen_months.recipients'] }, { securityContext: district })).toEqual({
      measures: ['screen_months.recipients'],
      filters: [{ member: 'screen_months.region_path', operator: 'contains', values: ['/330602/'] }]
    });
    expect(
      await queryRewrite({ measures: ['audit_people.count'], dimensions: ['audit_people.region_name'] }, { securityContext: CTX.leader })
    ).toEqual({ measures: ['audit_people.count'], dimensions: ['audit_people.region_name'] });
    expect(logged).toEqual([]);
    const q = { dimensions: ['audit_people.id_number'], filters: [{ member: 'audit_people.name', operator: 'equals', values: ['张三'] }] };
    expect(await queryRewrite(q, { securityContext: CTX.districtAuditor })).toEqual({
      ...q,
      filters: [...q.filters, { member: 'audit_people.region_path', operator: 'contains', values: ['/330602/'] }]
    });
    expect(logged).toEqual([{ user: 'zhao', role: 'auditor', region_code: '330602', members: ['audit_people.id_number'] }]);
  });

  it('applyPersonalRule is the function cube.js uses', () => {
    const personal = engine.personalMembers;
    expect(() => applyPersonalRule({ dimensions: ['people_now.name'] }, CTX.leader, personal)).toThrow(/personal data/i);
    expect(applyPersonalRule({ dimensions: ['people_now.sex'] }, CTX.leader, personal)).toEqual({ dimensions: ['people_now.sex'] });
    expect(applyPersonalRule({ dimensions: ['people_now.name'] }, CTX.auditorUnmask, personal)).toEqual({
      dimensions: ['people_now.name']
    });
  });
});
