// The embedded engine behind a real HTTP server, driven by the official @cubejs-client/core:
// load (GET and POST, multi), pivots with filled date series, drill-down, meta, sql; plus the
// exact response and error shapes a Cube client expects.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cube, { type CubeApi, type Query } from '@cubejs-client/core';
import { freshDatabase, type TestDatabase } from './db.ts';
import { createSemanticEngine, signToken, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { seedTestData, serve, TEST_MODEL_DIR, TEST_SECRET, CITY } from '../semantic-layer/test-model/fixture.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let server: { url: string; close(): Promise<void> };
let api: CubeApi;
let apiPost: CubeApi;
let cityToken: string;
const NOW = new Date();

beforeAll(async () => {
  db = await freshDatabase();
  await seedTestData(db.pool, NOW);
  engine = createSemanticEngine({ modelDir: TEST_MODEL_DIR, pool: db.pool, apiSecret: TEST_SECRET, log: () => {} });
  server = await serve(engine.handle);
  cityToken = await signToken({ role: 'leader', region_code: CITY, region_level: 'city' }, TEST_SECRET);
  api = cube(cityToken, { apiUrl: `${server.url}/cubejs-api/v1` });
  apiPost = cube(cityToken, { apiUrl: `${server.url}/cubejs-api/v1`, method: 'POST' });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function raw(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token !== null) headers.authorization = init.token ?? cityToken;
  const res = await fetch(`${server.url}/cubejs-api/v1/${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}
const q = (query: unknown, extra = '') => `load?query=${encodeURIComponent(JSON.stringify(query))}${extra}`;

describe('@cubejs-client/core against the engine', () => {
  it('loads a monthly series; chartPivot fills missing months from the date range', async () => {
    const rs = await api.load({
      measures: ['orders.count', 'orders.total_amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-12-31'] }],
      timezone: 'Asia/Shanghai'
    });
    const chart = rs.chartPivot();
    expect(chart).toHaveLength(12);
    expect(chart.map((r) => r.x)).toEqual(Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}-01T00:00:00.000`));
    const direct = await db.pool.query(
      `SELECT count(*)::int AS n FROM sl_orders WHERE created_at >= '2024-01-01T00:00:00+08' AND created_at < '2025-01-01T00:00:00+08'`
    );
    expect(chart.reduce((s, r) => s + Number(r['orders.count']), 0)).toBe(direct.rows[0].n);
    const table = rs.tablePivot();
    expect(table.length).toBeGreaterThan(0);
    expect(Object.keys(table[0])).toEqual(['orders.created_at.month', 'orders.count', 'orders.total_amount']);
    expect(rs.seriesNames().map((s) => s.key)).toEqual(['orders.count', 'orders.total_amount']);
    expect(rs.annotation().measures['orders.total_amount']).toMatchObject({
      title: 'Orders Total Amount',
      shortTitle: 'Total Amount',
      type: 'number',
      format: 'currency',
      meta: { unit: 'yuan' }
    });
  });

  it('pivots a dimension against weeks and gets the same numbers over POST', async () => {
    const query: Query = {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: ['2024-05-01', '2024-06-30'] }],
      filters: [{ member: 'orders.status', operator: 'equals', values: ['completed', 'pending'] }],
      timezone: 'Asia/Shanghai'
    };
    const [viaGet, viaPost] = await Promise.all([api.load(query), apiPost.load(query)]);
    const pivot = viaGet.chartPivot({ x: ['orders.created_at.week'], y: ['orders.status', 'measures'] });
    expect(pivot[0].x).toBe('2024-04-29T00:00:00.000'); // the Monday of the week of May 1st
    expect(pivot.every((r) => Object.keys(r).includes('completed,orders.count'))).toBe(true);
    expect(viaPost.rawData()).toEqual(viaGet.rawData());
    expect(
      viaGet
        .tablePivot({ x: ['orders.status'], y: ['orders.created_at.week', 'measures'] })
        .map((r) => r['orders.status'])
        .sort()
    ).toEqual(['completed', 'pending']);
  });

  it('drills down through drill members', async () => {
    const rs = await api.load({
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [{ member: 'orders.status', operator: 'equals', values: ['cancelled'] }]
    });
    const drill = rs.drillDown({ xValues: ['cancelled'] })!;
    expect(drill.dimensions).toEqual(['orders.id', 'orders.status', 'customers.name', 'orders.created_at']);
    const detail = await api.load({ ...drill, limit: 500 });
    expect(detail.rawData()).toHaveLength(Number(rs.rawData()[0]['orders.count']));
    expect(detail.rawData().every((r) => r['orders.status'] === 'cancelled')).toBe(true);
  });

  it('serves meta without hidden members', async () => {
    const meta = await api.meta();
    const names = meta.cubes.map((c) => c.name).sort();
    expect(names).toEqual(['audit_notes', 'customers', 'fund_ledger', 'order_items', 'orders', 'regions', 'sales']);
    const orders = meta.cubes.find((c) => c.name === 'orders')!;
    const dims = orders.dimensions.map((d) => d.name);
    expect(dims).toContain('orders.id'); // public primary key
    expect(dims).not.toContain('orders.region_path');
    expect(meta.cubes.find((c) => c.name === 'customers')!.dimensions.map((d) => d.name)).not.toContain('customers.id');
    expect(orders.measures.find((m) => m.name === 'orders.completion_rate')).toMatchObject({
      type: 'number',
      aggType: 'number',
      format: 'percent',
      title: 'Orders Completion rate'
    });
    expect(meta.cubes.find((c) => c.name === 'sales')!.type).toBe('view');
    expect(meta.resolveMember('orders.count', 'measures')).toMatchObject({ title: 'Orders Count' });
  });

  it('returns the SQL with parameters', async () => {
    const sql = await api.sql({
      measures: ['orders.count'],
      filters: [{ member: 'orders.status', operator: 'equals', values: ['completed'] }]
    });
    expect(sql.sql()).toContain('"orders".status = $1');
    expect(sql.rawQuery().sql[1]).toEqual(['completed']);
  });

  it('turns errors into RequestError with the server message', async () => {
    await expect(api.load({ measures: ['orders.nope'] })).rejects.toMatchObject({
      status: 400,
      message: "'nope' not found for path 'orders.nope'"
    });
    const bad = cube('not-a-token', { apiUrl: `${server.url}/cubejs-api/v1` });
    await expect(bad.load({ measures: ['orders.count'] })).rejects.toMatchObject({ status: 403, message: 'Invalid token' });
  });
});

describe('response shapes', () => {
  it('answers the single form without queryType=multi and the multi form with it', async () => {
    const query = {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'year' }],
      total: true
    };
    const single = await raw(q(query));
    expect(single.status).toBe(200);
    expect(Object.keys(single.body).sort()).toEqual([
      'annotation',
      'data',
      'dataSource',
      'dbType',
      'external',
      'lastRefreshTime',
      'query',
      'slowQuery',
      'total'
    ]);
    expect(single.body).toMatchObject({ dataSource: 'default', dbType: 'postgres', slowQuery: false });
    expect(single.body.lastRefreshTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof single.body.total).toBe('number');
    const row = (single.body.data as Record<string, unknown>[])[0];
    expect(Object.keys(row)).toEqual(['orders.status', 'orders.created_at.year', 'orders.created_at', 'orders.count']);
    expect(row['orders.created_at.year']).toMatch(/^\d{4}-01-01T00:00:00\.000$/);
    expect(typeof row['orders.count']).toBe('string');
    expect(single.body.query).toMatchObject({ limit: 10000, rowLimit: 10000, timezone: 'UTC', queryType: 'regularQuery', total: true });
    expect(single.body.query).not.toHaveProperty('order');
    const annotation = single.body.annotation as Record<string, Record<string, unknown>>;
    expect(Object.keys(annotation)).toEqual(['measures', 'dimensions', 'segments', 'timeDimensions']);
    expect(Object.keys(annotation.timeDimensions)).toEqual(['orders.created_at.year', 'orders.created_at']);
    expect(annotation.measures['orders.count']).toMatchObject({
      type: 'number',
      drillMembers: ['orders.id', 'orders.status', 'customers.name', 'orders.created_at']
    });

    const multi = await raw(q(query, '&queryType=multi'));
    expect(Object.keys(multi.body).sort()).toEqual(['pivotQuery', 'queryType', 'results', 'slowQuery']);
    expect(multi.body.queryType).toBe('regularQuery');
    expect((multi.body.pivotQuery as Record<string, unknown>).queryType).toBe('regularQuery');
    expect((multi.body.results as unknown[]).length).toBe(1);
  });

  it('blends an array of queries with the same granularity', async () => {
    const td = { dimension: 'orders.created_at', granularity: 'quarter', dateRange: ['2024-01-01', '2024-12-31'] };
    const res = await raw(
      q(
        [
          { measures: ['orders.count'], timeDimensions: [td] },
          { measures: ['customers.count'], timeDimensions: [{ ...td, dimension: 'customers.created_at' }] }
        ],
        '&queryType=multi'
      )
    );
    expect(res.status).toBe(200);
    expect(res.body.queryType).toBe('blendingQuery');
    const results = res.body.results as { data: Record<string, unknown>[] }[];
    expect(results[0].data[0]['time.quarter']).toBe(results[0].data[0]['orders.created_at.quarter']);
    expect(res.body.pivotQuery).toMatchObject({
      measures: ['orders.count', 'customers.count'],
      timeDimensions: [{ dimension: 'time', granularity: 'quarter' }]
    });
  });

  it('answers compact and columnar response formats', async () => {
    const compact = await raw(
      q({ measures: ['orders.count'], dimensions: ['orders.status'], responseFormat: 'compact', order: { 'orders.status': 'asc' } })
    );
    expect((compact.body.data as { members: string[] }).members).toEqual(['orders.status', 'orders.count']);
    const rs = await api.load(
      { measures: ['orders.count'], dimensions: ['orders.status'], order: { 'orders.status': 'asc' } },
      {},
      undefined,
      'compact'
    );
    expect(rs.rawData()[0]).toHaveProperty('orders.count');
  });

  it('answers /sql and /dry-run like Cube', async () => {
    const sql = await raw(
      `sql?query=${encodeURIComponent(JSON.stringify({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }] }))}`
    );
    const s = sql.body.sql as Record<string, unknown>;
    expect(Array.isArray(s.sql)).toBe(true);
    expect(s).toMatchObject({
      timeDimensionAlias: 'orders__created_at_day',
      timeDimensionField: 'orders.created_at.day',
      order: { 'orders.created_at': 'asc' },
      dataSource: 'default',
      external: false
    });
    const dry = await raw('dry-run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { measures: ['orders.count'] } })
    });
    expect(dry.body).toMatchObject({ queryType: 'regularQuery', normalizedQueries: [{ measures: ['orders.count'], limit: 10000 }] });
  });
});

describe('error shapes', () => {
  const expectUserError = (r: { status: number; body: Record<string, unknown>; text: string }, pattern: RegExp) => {
    expect(r.status).toBe(400);
    expect(r.body.type).toBe('UserError');
    expect(r.body.error).toMatch(pattern);
    expect(r.text).not.toMatch(/\bat \S+ \(|\.ts:\d+|stack/);
  };

  it('400 for malformed JSON, bad query shapes, unknown members, over-limit and fan-out', async () => {
    expectUserError(await raw('load?query=%7Bmeasures'), /Unable to decode query param as JSON/);
    expectUserError(await raw('load'), /Query param is required/);
    expectUserError(await raw(q({ measures: 'orders.count' })), /"measures" must be an array/);
    expectUserError(await raw(q({ measures: ['orders.count'], limit: 50001 })), /query limit has been exceeded/);
    expectUserError(
      await raw(q({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equals' }] })),
      /Values required/
    );
    expectUserError(await raw(q({ measures: ['ghosts.count'] })), /Cube 'ghosts' not found for path 'ghosts.count'/);
    expectUserError(await raw(q({ measures: ['orders.count'], dimensions: ['orders.region_path'] })), /hidden member/);
    expectUserError(await raw(q({ measures: ['orders.total_amount'], dimensions: ['order_items.product'] })), /Query would fan out/);
    expectUserError(
      await raw(q({ measures: ['orders.count'], filters: [{ member: 'orders.created_at', operator: 'gt', values: ['not a date'] }] })),
      /Invalid value in query/
    );
    expectUserError(
      await raw('load', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' }),
      /Unable to decode request body as JSON/
    );
    // or/and groups nested 10,000 deep (they used to exhaust the stack: a 500)
    const deep = '{"or":['.repeat(10_000) + '{"member":"orders.status","operator":"equals","values":["x"]}' + ']}'.repeat(10_000);
    const nested = await raw('load', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":{"measures":["orders.count"],"filters":[${deep}]}}`
    });
    expectUserError(nested, /nest or\/and groups at most/);
  });

  it('413 for a body over the limit', async () => {
    const big = await raw('load', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { measures: ['orders.count'] }, pad: 'x'.repeat(1_100_000) })
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: 'Request body is too large', code: 'too_large' });
  });

  it('403 for missing or bad tokens, 404/405 for other paths', async () => {
    expect(await raw(q({ measures: ['orders.count'] }), { token: null })).toMatchObject({
      status: 403,
      body: { error: "Authorization header isn't set" }
    });
    expect(await raw(q({ measures: ['orders.count'] }), { token: 'garbage' })).toMatchObject({
      status: 403,
      body: { error: 'Invalid token' }
    });
    const wrongSecret = await signToken({ region_code: CITY, region_level: 'city' }, 'another-secret');
    expect(await raw(q({ measures: ['orders.count'] }), { token: wrongSecret })).toMatchObject({
      status: 403,
      body: { error: 'Invalid token' }
    });
    const expired = await signToken({ region_code: CITY, region_level: 'city' }, TEST_SECRET, Math.floor(Date.now() / 1000) - 10);
    expect(await raw(q({ measures: ['orders.count'] }), { token: expired })).toMatchObject({
      status: 403,
      body: { error: 'Invalid token' }
    });
    expect((await raw(q({ measures: ['orders.count'] }), { token: `Bearer ${cityToken}` })).status).toBe(200);
    // A token without an expiry would be good for ever once leaked.
    const forever = await new SignJWT({ region_code: CITY, region_level: 'city' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect(await raw(q({ measures: ['orders.count'] }), { token: forever })).toMatchObject({
      status: 403,
      body: { error: 'Invalid token' }
    });
    expect((await raw('nothing-here')).status).toBe(404);
    expect((await raw('meta', { method: 'POST' })).status).toBe(405);
  });

  it('never answers with a stack trace, even when the database fails', async () => {
    const broken = createSemanticEngine({ modelDir: TEST_MODEL_DIR, pool: db.pool, apiSecret: TEST_SECRET, log: () => {} });
    await db.pool.query('ALTER TABLE sl_audit_notes RENAME TO sl_audit_notes_moved');
    try {
      const res = await broken.handle(
        new Request('http://x/cubejs-api/v1/load?query=' + encodeURIComponent(JSON.stringify({ measures: ['audit_notes.count'] })), {
          headers: { authorization: cityToken }
        })
      );
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body).toEqual({ error: expect.stringMatching(/^Internal Server Error \(ref [0-9a-z]+\)$/), code: 'internal' });
    } finally {
      await db.pool.query('ALTER TABLE sl_audit_notes_moved RENAME TO sl_audit_notes');
    }
  });
});
