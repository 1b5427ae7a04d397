// Area security under hostile queries: whatever a caller below city level sends — filters on
// other districts, or-groups, negations, drill-downs, ungrouped lists, views, /sql — every row
// it gets back lies in its own area, checked against the data itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cube from '@cubejs-client/core';
import { freshDatabase, type TestDatabase } from './db.ts';
import { createSemanticEngine, signToken, type ResultObject, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { seedTestData, serve, TEST_MODEL_DIR, TEST_SECRET, CITY, REGIONS, regionPath } from '../semantic-layer/test-model/fixture.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let server: { url: string; close(): Promise<void> };

const CTX = {
  city: { role: 'leader', region_code: CITY, region_level: 'city' },
  district: { role: 'staff', region_code: '330602', region_level: 'district' },
  otherDistrict: { role: 'staff', region_code: '330603', region_level: 'district' },
  lookalike: { role: 'staff', region_code: '3306022', region_level: 'district' },
  town: { role: 'staff', region_code: '330602001', region_level: 'town' },
  community: { role: 'staff', region_code: '330602001001', region_level: 'community' }
};

beforeAll(async () => {
  db = await freshDatabase();
  await seedTestData(db.pool);
  engine = createSemanticEngine({ modelDir: TEST_MODEL_DIR, pool: db.pool, apiSecret: TEST_SECRET, log: () => {} });
  server = await serve(engine.handle);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const rows = async (query: Record<string, unknown>, ctx: Record<string, unknown>) =>
  ((await engine.load(query, ctx)) as ResultObject).data as Record<string, unknown>[];
const count = async (query: Record<string, unknown>, ctx: Record<string, unknown>) => {
  const r = await rows(query, ctx);
  return r.reduce((s, x) => s + Number(x['orders.count'] ?? x['sales.count'] ?? 0), 0);
};
const direct = async (where: string, params: unknown[] = []) =>
  Number((await db.pool.query(`SELECT count(*) AS n FROM sl_orders WHERE ${where}`, params)).rows[0].n);
const inArea = (code: string) => direct(`region_path LIKE $1`, [`%/${code}/%`]);
/** region_path of order ids straight from the table. */
async function pathsOf(ids: unknown[]): Promise<(string | null)[]> {
  const r = await db.pool.query('SELECT region_path FROM sl_orders WHERE id = ANY($1::int[])', [ids.map(Number)]);
  return r.rows.map((x) => x.region_path);
}

describe('area rule on hostile queries', () => {
  it('each level sees exactly its own area; the city also sees rows without a region', async () => {
    const q = { measures: ['orders.count'] };
    for (const code of ['330602', '330603', '3306022', '330602001', '330602001001']) {
      const level = code.length === 6 || code.length === 7 ? 'district' : code.length === 9 ? 'town' : 'community';
      expect(await count(q, { region_code: code, region_level: level })).toBe(await inArea(code));
    }
    expect(await inArea('330602')).toBeGreaterThan(20);
    expect(await count(q, CTX.city)).toBe(await direct('true'));
    expect(await direct('region_path IS NULL')).toBeGreaterThan(0);
  });

  it('a caller carrying its region path (prefix filter) sees exactly what the code alone shows', async () => {
    const q = { measures: ['orders.count'] };
    const ids = async (ctx: Record<string, unknown>) =>
      (await rows({ dimensions: ['orders.id'], limit: 50000 }, ctx)).map((r) => r['orders.id']).sort();
    for (const r of REGIONS.filter((x) => x.level !== 'city')) {
      const ctx = { role: 'staff', region_code: r.code, region_level: r.level };
      const withPath = { ...ctx, region_path: regionPath(r.code) };
      expect(await count(q, withPath)).toBe(await inArea(r.code));
      expect(await ids(withPath)).toEqual(await ids(ctx));
    }
    const res = (await engine.load({ measures: ['orders.count'] }, { ...CTX.district, region_path: regionPath('330602') })) as ResultObject;
    expect(res.query.filters).toEqual([{ member: 'orders.region_path', operator: 'startsWith', values: [regionPath('330602')] }]);
    // A path that is not the code's own (here: the city's) is refused, never used to widen.
    await expect(engine.load(q, { ...CTX.district, region_path: `/${CITY}/` })).rejects.toThrow(
      /region_path must be the path of its region_code/
    );
    const token = await signToken({ ...CTX.district, region_path: `/${CITY}/` }, TEST_SECRET);
    expect(
      (
        await fetch(`${server.url}/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(q))}`, {
          headers: { authorization: token }
        })
      ).status
    ).toBe(403);
  });

  it('a code that merely starts like another never matches it', async () => {
    const ids = (await rows({ dimensions: ['orders.id'], limit: 50000 }, CTX.district)).map((r) => r['orders.id']);
    const paths = await pathsOf(ids);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p!.includes('/330602/') && !p!.includes('/3306022/'))).toBe(true);
    const lookalikeIds = (await rows({ dimensions: ['orders.id'], limit: 50000 }, CTX.lookalike)).map((r) => r['orders.id']);
    expect(lookalikeIds.length).toBeGreaterThan(0);
    expect(lookalikeIds.some((id) => ids.includes(id))).toBe(false);
  });

  it('filters naming another district return nothing', async () => {
    expect(
      await rows(
        { measures: ['orders.count'], filters: [{ member: 'orders.region_path', operator: 'contains', values: ['/330603/'] }] },
        CTX.district
      )
    ).toEqual([{ 'orders.count': '0' }]);
    expect(
      await rows(
        {
          measures: ['orders.count'],
          dimensions: ['customers.region_code'],
          filters: [{ member: 'customers.region_code', operator: 'equals', values: ['330603001001'] }]
        },
        CTX.district
      )
    ).toEqual([]);
    expect(
      await rows(
        { dimensions: ['regions.name'], filters: [{ member: 'regions.code', operator: 'startsWith', values: ['330603'] }] },
        CTX.district
      )
    ).toEqual([]);
  });

  it('or-groups, negations and always-true conditions cannot widen the area', async () => {
    const expected = await inArea('330602');
    const widen = [
      [
        {
          or: [
            { member: 'orders.region_path', operator: 'contains', values: ['/330603/'] },
            { member: 'orders.status', operator: 'set' },
            { member: 'orders.status', operator: 'notSet' }
          ]
        }
      ],
      [{ member: 'orders.region_path', operator: 'notContains', values: ['/330602/'] }],
      [
        {
          or: [
            { member: 'orders.region_path', operator: 'set' },
            { member: 'orders.region_path', operator: 'notSet' }
          ]
        }
      ],
      [{ member: 'orders.region_path', operator: 'notEquals', values: ['x'] }],
      [{ or: [{ and: [{ member: 'orders.id', operator: 'gt', values: ['0'] }] }, { member: 'orders.id', operator: 'lte', values: ['0'] }] }]
    ];
    for (const filters of widen) {
      const n = await count({ measures: ['orders.count'], filters }, CTX.district);
      expect(n).toBeLessThanOrEqual(expected);
    }
    expect(await count({ measures: ['orders.count'], filters: widen[0] }, CTX.district)).toBe(expected);
  });

  it('drill members and ungrouped lists stay inside the area', async () => {
    const api = cube(await signToken(CTX.town, TEST_SECRET), { apiUrl: `${server.url}/cubejs-api/v1` });
    const rs = await api.load({ measures: ['orders.count'], dimensions: ['orders.status'] });
    for (const status of rs.rawData().map((r) => r['orders.status'])) {
      const drill = rs.drillDown({ xValues: [status as string] })!;
      const detail = await api.load({ ...drill, limit: 50000 });
      const paths = await pathsOf(detail.rawData().map((r) => r['orders.id']));
      expect(paths.every((p) => p!.includes('/330602001/'))).toBe(true);
    }
    const ungrouped = await rows(
      {
        measures: ['orders.total_amount', 'customers.total_credit'],
        dimensions: ['orders.id', 'customers.name'],
        ungrouped: true,
        limit: 50000,
        total: true
      },
      CTX.community
    );
    const paths = await pathsOf(ungrouped.map((r) => r['orders.id']));
    // customers' members are named too, so customers are held to the area as well
    const both = await db.pool.query(`SELECT count(*) AS n FROM sl_orders o JOIN sl_customers c ON c.id = o.customer_id
      WHERE o.region_path LIKE '%/330602001001/%' AND c.region_path LIKE '%/330602001001/%'`);
    expect(paths.length).toBe(Number(both.rows[0].n));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p === '/330600/330602/330602001/330602001001/')).toBe(true);
  });

  it('views and joined cubes are held to the area too', async () => {
    const salesRows = await rows(
      { measures: ['sales.count'], dimensions: ['sales.customers_name', 'sales.region_path'], limit: 50000 },
      CTX.district
    );
    expect(salesRows.length).toBeGreaterThan(0);
    expect(salesRows.every((r) => String(r['sales.region_path']).includes('/330602/'))).toBe(true);
    expect(await count({ measures: ['sales.count'] }, CTX.district)).toBe(await inArea('330602'));
    const names = await rows({ dimensions: ['regions.name', 'regions.level'] }, CTX.district);
    expect(names.map((r) => r['regions.name']).sort()).toEqual(['Beihai', 'Beihai 1', 'Fushan', 'Fushan 1', 'Fushan 2', 'Yuecheng']);
  });

  it('/sql shows the area condition, and the SQL it returns reads only the area', async () => {
    const res = await engine.sql(
      { dimensions: ['orders.id'], filters: [{ member: 'orders.status', operator: 'set' }], limit: 50000 },
      CTX.district
    );
    const [text, params] = ('sql' in res ? res : res[0]).sql.sql;
    expect(text).toMatch(/"orders"\.region_path ILIKE '%' \|\| \$\d+ \|\| '%'/);
    expect(params).toContain('/330602/');
    const r = await db.pool.query(text, params as unknown[]);
    const paths = await pathsOf(r.rows.map((x) => x.orders__id));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p!.includes('/330602/'))).toBe(true);
  });

  it('cubes without a region scope are city-only; region_scope none is open to all', async () => {
    for (const query of [
      { measures: ['audit_notes.count'] },
      { measures: ['orders.count'], filters: [{ member: 'audit_notes.note', operator: 'set' }] },
      { measures: ['orders.count'], order: { 'audit_notes.count': 'desc' } }
    ]) {
      const res = await engine.handle(
        new Request(`http://x/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(query))}`, {
          headers: { authorization: await signToken(CTX.district, TEST_SECRET) }
        })
      );
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: "'audit_notes' has no region scope; only city-wide callers may query it",
        code: 'forbidden'
      });
    }
    expect(await rows({ measures: ['audit_notes.count'] }, CTX.city)).toEqual([{ 'audit_notes.count': '4' }]);
    expect((await rows({ measures: ['fund_ledger.balance'], dimensions: ['fund_ledger.scheme'] }, CTX.community)).length).toBe(2);
  });

  it('tokens without a valid region scope are refused everywhere', async () => {
    for (const payload of [
      { role: 'admin' },
      { region_code: '33%' },
      { region_code: '330602/' },
      { region_code: 330602 },
      { region_code: '330602', region_level: 'galaxy' }
    ]) {
      const token = await signToken(payload, TEST_SECRET);
      for (const path of ['meta', `load?query=${encodeURIComponent('{"measures":["fund_ledger.balance"]}')}`]) {
        const res = await fetch(`${server.url}/cubejs-api/v1/${path}`, { headers: { authorization: token } });
        expect(res.status).toBe(403);
      }
    }
    await expect(engine.load({ measures: ['orders.count'] }, {})).rejects.toThrow(/no valid region_code/);
  });

  it('the security context comes from the signed token only', async () => {
    const token = await signToken(CTX.district, TEST_SECRET);
    const query = encodeURIComponent(JSON.stringify({ measures: ['orders.count'] }));
    const res = await fetch(
      `${server.url}/cubejs-api/v1/load?query=${query}&securityContext=${encodeURIComponent(JSON.stringify(CTX.city))}`,
      { headers: { authorization: token } }
    );
    const body = await res.json();
    expect(Number(body.data[0]['orders.count'])).toBe(await inArea('330602'));
    const forged = token.split('.').slice(0, 2).join('.') + '.' + Buffer.from('x'.repeat(32)).toString('base64url');
    expect((await fetch(`${server.url}/cubejs-api/v1/load?query=${query}`, { headers: { authorization: forged } })).status).toBe(403);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(CTX.city)).toString('base64url')}.`;
    expect((await fetch(`${server.url}/cubejs-api/v1/load?query=${query}`, { headers: { authorization: unsigned } })).status).toBe(403);
  });

  it('the answered query shows the area filter that was applied', async () => {
    const res = (await engine.load({ measures: ['orders.count'], dimensions: ['customers.segment'] }, CTX.otherDistrict)) as ResultObject;
    expect(res.query.filters).toEqual([
      { member: 'customers.region_path', operator: 'contains', values: ['/330603/'] },
      { member: 'orders.region_path', operator: 'contains', values: ['/330603/'] }
    ]);
  });
});
