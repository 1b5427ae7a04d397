// Conformance with real Cube: every query below is compiled by Cube's own schema-compiler
// (JavaScript planner, same YAML files) and by the embedded engine; both SQL statements run on
// the same seeded database and the rows must be identical — same members, same values (as the
// Postgres driver returns them), same order. Queries cover every measure type, filter
// operator, granularity and date-range form the engine supports, joins, views, segments and
// the region rule (the rewritten query compiled by Cube too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { createSemanticEngine, type SemanticEngine, type ResultObject } from '../semantic-layer/engine/index.ts';
import { normalizeQuery, toRestQuery, type NormalizedQuery } from '../semantic-layer/engine/query.ts';
import { applyRegionRule, type RegionScopes } from '../semantic-layer/engine/region-rule.js';
import { buildMetaConfig } from '../semantic-layer/engine/meta.ts';
import { createCubeOracle, type CubeOracle } from '../semantic-layer/test-model/cube-oracle.ts';
import { seedTestData, TEST_MODEL_DIR, TEST_SECRET, CITY } from '../semantic-layer/test-model/fixture.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let oracle: CubeOracle;
const NOW = new Date();
const CITY_CTX = { role: 'leader', region_code: CITY, region_level: 'city' };
const DISTRICT_CTX = { role: 'staff', region_code: '330602', region_level: 'district' };

beforeAll(async () => {
  db = await freshDatabase();
  await seedTestData(db.pool, NOW);
  engine = createSemanticEngine({ modelDir: TEST_MODEL_DIR, pool: db.pool, apiSecret: TEST_SECRET, now: () => NOW });
  oracle = await createCubeOracle(TEST_MODEL_DIR);
});
afterAll(async () => {
  await db?.drop();
});

const SH = 'Asia/Shanghai';
type Q = Record<string, unknown>;

/** [name, query]: the conformance corpus. */
const CASES: [string, Q][] = [
  // measure types
  [
    'count, count_distinct, sum, avg, min, max by status',
    {
      measures: [
        'orders.count',
        'orders.customer_count',
        'orders.total_amount',
        'orders.avg_amount',
        'orders.min_amount',
        'orders.max_amount',
        'orders.total_quantity'
      ],
      dimensions: ['orders.status'],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'measures with filters and number measures over them',
    {
      measures: ['orders.completed_count', 'orders.completed_amount', 'orders.completion_rate', 'orders.amount_per_customer'],
      dimensions: ['orders.size_bucket'],
      order: [['orders.size_bucket', 'asc']]
    }
  ],
  [
    'time-typed measure (max timestamp)',
    { measures: ['orders.last_order_at', 'orders.count'], dimensions: ['orders.is_large'], order: { 'orders.is_large': 'asc' } }
  ],
  ['measures only, no dimensions', { measures: ['orders.count', 'orders.total_amount', 'orders.completion_rate'] }],
  ['default order: first measure desc', { measures: ['orders.total_amount', 'orders.count'], dimensions: ['orders.status'] }],
  ['default order: first dimension asc', { dimensions: ['orders.status', 'orders.size_bucket'] }],
  // granularities and date ranges
  [
    'day granularity, absolute range with bare dates, Shanghai',
    {
      measures: ['orders.count', 'orders.total_amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-03-30', '2024-04-02'] }],
      timezone: SH
    }
  ],
  [
    'week granularity (weeks start Monday), Shanghai',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: ['2024-05-20', '2024-06-16'] }],
      timezone: SH
    }
  ],
  [
    'month granularity over the whole data, UTC',
    { measures: ['orders.count', 'orders.completed_amount'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month' }] }
  ],
  [
    'month granularity, Shanghai (boundary rows move)',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2023-12-01', '2024-03-31'] }],
      timezone: SH
    }
  ],
  [
    'quarter granularity with a dimension',
    {
      measures: ['orders.count', 'orders.avg_amount'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'quarter', dateRange: ['2024-01-01', '2024-12-31'] }],
      timezone: SH,
      order: [
        ['orders.created_at', 'asc'],
        ['orders.status', 'asc']
      ]
    }
  ],
  [
    'year granularity on a date column',
    { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.shipped_on', granularity: 'year' }], timezone: SH }
  ],
  [
    'timestamp-without-zone column, hour granularity',
    {
      measures: ['orders.count'],
      timeDimensions: [
        { dimension: 'orders.placed_local', granularity: 'hour', dateRange: ['2024-03-31T12:00:00.000', '2024-04-01T12:00:00.000'] }
      ],
      timezone: SH
    }
  ],
  [
    'DST zone (America/New_York) day granularity across the March change',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-03-08', '2024-03-12'] }],
      timezone: 'America/New_York'
    }
  ],
  [
    'two granularities of one dimension, order by the td',
    {
      measures: ['orders.count'],
      dimensions: ['orders.created_at.year'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-06-30'] }],
      timezone: SH
    }
  ],
  [
    'date range without granularity (filter only)',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-02-01', '2024-02-29'] }],
      timezone: SH
    }
  ],
  [
    'single-date dateRange string',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: '2024-04-01' }],
      timezone: SH
    }
  ],
  [
    'relative: today',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'hour', dateRange: 'today' }],
      timezone: SH
    }
  ],
  [
    'relative: yesterday',
    { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: 'yesterday' }], timezone: SH }
  ],
  [
    'relative: this week',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'this week' }],
      timezone: SH
    }
  ],
  [
    'relative: last week',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'last week' }],
      timezone: SH
    }
  ],
  [
    'relative: this month',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'this month' }],
      timezone: SH
    }
  ],
  [
    'relative: last month',
    {
      measures: ['orders.total_amount'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: 'last month' }],
      timezone: SH
    }
  ],
  [
    'relative: this quarter',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'this quarter' }],
      timezone: SH
    }
  ],
  [
    'relative: last quarter',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'last quarter' }],
      timezone: SH
    }
  ],
  [
    'relative: this year',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'quarter', dateRange: 'this year' }],
      timezone: SH
    }
  ],
  [
    'relative: last year',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'last year' }],
      timezone: SH
    }
  ],
  [
    'relative: last 12 months',
    {
      measures: ['orders.count', 'orders.completion_rate'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'last 12 months' }],
      timezone: SH
    }
  ],
  [
    'relative: last 30 days',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: 'last 30 days' }],
      timezone: SH
    }
  ],
  [
    'relative: last 2 weeks',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'last 2 weeks' }],
      timezone: SH
    }
  ],
  [
    'absolute: from … to … string',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'from 2024-01-15 to 2024-04-15' }],
      timezone: SH
    }
  ],
  [
    'absolute: timestamps with time of day',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'hour', dateRange: ['2024-03-31T23:00:00', '2024-04-01T08:30:00'] }],
      timezone: SH
    }
  ],
  [
    'relative: last 3 years',
    {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'year', dateRange: 'last 3 years' }],
      timezone: 'UTC'
    }
  ],
  // filter operators
  [
    'equals / notEquals / in with null',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.status', operator: 'notEquals', values: ['cancelled'] },
        { member: 'orders.customer_id', operator: 'equals', values: ['3', '5', '8', '13'] }
      ],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'in / notIn / notEquals with several values',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.status', operator: 'in', values: ['completed', 'pending', 'Completed'] },
        { member: 'orders.note', operator: 'notIn', values: ['rush', 'gift_wrap'] },
        { member: 'orders.quantity', operator: 'notEquals', values: [1, 2] }
      ],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'onTheDate',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [{ member: 'orders.created_at', operator: 'onTheDate', values: ['2024-04-01'] }],
      timezone: SH
    }
  ],
  [
    'equals null / notEquals null / set / notSet',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        {
          or: [
            { member: 'orders.status', operator: 'equals', values: [null] },
            { member: 'orders.note', operator: 'set' }
          ]
        },
        { member: 'orders.amount', operator: 'set' }
      ],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'notEquals null means set',
    { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'notEquals', values: [null] }] }
  ],
  [
    'notSet and equals list containing null',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.note', operator: 'notSet' },
        { member: 'orders.status', operator: 'equals', values: ['pending', null] }
      ],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'contains / notContains are case-insensitive and escape wildcards',
    {
      measures: ['orders.count'],
      dimensions: ['orders.note'],
      filters: [{ member: 'orders.note', operator: 'contains', values: ['RUSH', '50%', '_'] }],
      order: { 'orders.note': 'asc' }
    }
  ],
  [
    'notContains keeps NULLs',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [{ member: 'orders.status', operator: 'notContains', values: ['cancel', 'pend'] }],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'startsWith / endsWith',
    {
      measures: ['orders.count'],
      dimensions: ['customers.segment'],
      filters: [
        {
          or: [
            { member: 'customers.segment', operator: 'startsWith', values: ['ret'] },
            { member: 'customers.segment', operator: 'endsWith', values: ['AGENCY'] }
          ]
        }
      ],
      order: { 'customers.segment': 'asc' }
    }
  ],
  [
    'notStartsWith / notEndsWith',
    {
      measures: ['customers.count'],
      dimensions: ['customers.segment'],
      filters: [
        { member: 'customers.segment', operator: 'notStartsWith', values: ['retail'] },
        { member: 'customers.segment', operator: 'notEndsWith', values: ['_agency'] }
      ],
      order: { 'customers.segment': 'asc' }
    }
  ],
  [
    'gt / gte / lt / lte on numbers',
    {
      measures: ['orders.count', 'orders.total_amount'],
      dimensions: ['orders.quantity'],
      filters: [
        { member: 'orders.amount', operator: 'gt', values: ['20.5'] },
        { member: 'orders.amount', operator: 'lte', values: ['250'] },
        { member: 'orders.quantity', operator: 'gte', values: [2] },
        { member: 'orders.quantity', operator: 'lt', values: [5] }
      ],
      order: { 'orders.quantity': 'asc' }
    }
  ],
  [
    'measure filters go to HAVING',
    {
      measures: ['orders.count', 'orders.total_amount'],
      dimensions: ['customers.name'],
      filters: [
        { member: 'orders.count', operator: 'gte', values: ['8'] },
        { member: 'orders.total_amount', operator: 'lt', values: ['3000'] }
      ],
      order: { 'customers.name': 'asc' }
    }
  ],
  [
    'inDateRange / notInDateRange in filters',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.created_at', operator: 'inDateRange', values: ['2024-01-01', '2024-06-30'] },
        { member: 'orders.shipped_on', operator: 'notInDateRange', values: ['2024-03-01', '2024-03-31'] }
      ],
      timezone: SH,
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'beforeDate / afterDate / beforeOrOnDate / afterOrOnDate',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.created_at', operator: 'afterDate', values: ['2024-01-31'] },
        { member: 'orders.created_at', operator: 'beforeOrOnDate', values: ['2024-12-31T12:00:00'] },
        {
          or: [
            { member: 'orders.shipped_on', operator: 'beforeDate', values: ['2024-06-01'] },
            { member: 'orders.shipped_on', operator: 'afterOrOnDate', values: ['2024-09-01'] }
          ]
        }
      ],
      timezone: SH,
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'relative date in a filter value',
    {
      measures: ['orders.count'],
      filters: [{ member: 'orders.created_at', operator: 'inDateRange', values: ['last 6 months'] }],
      timezone: SH
    }
  ],
  [
    'nested and/or groups',
    {
      measures: ['orders.count'],
      dimensions: ['orders.status', 'orders.is_large'],
      filters: [
        {
          or: [
            {
              and: [
                { member: 'orders.status', operator: 'equals', values: ['completed'] },
                { member: 'orders.amount', operator: 'gt', values: ['150'] }
              ]
            },
            { member: 'orders.note', operator: 'equals', values: ['rush'] }
          ]
        }
      ],
      order: [
        ['orders.status', 'asc'],
        ['orders.is_large', 'asc']
      ]
    }
  ],
  [
    'boolean dimension filter',
    {
      measures: ['customers.count', 'customers.avg_credit'],
      dimensions: ['customers.is_vip'],
      filters: [{ member: 'customers.is_vip', operator: 'equals', values: ['true'] }]
    }
  ],
  // joins, views, segments, order, limit/offset, ungrouped
  [
    'many-to-one join: orders by customer segment and region',
    {
      measures: ['orders.count', 'orders.total_amount'],
      dimensions: ['customers.segment', 'regions.name'],
      order: [
        ['regions.name', 'asc'],
        ['customers.segment', 'asc']
      ]
    }
  ],
  [
    'measure filter referencing a joined cube',
    { measures: ['orders.vip_amount', 'orders.total_amount'], dimensions: ['orders.status'], order: { 'orders.status': 'asc' } }
  ],
  [
    'count of the "one" side through a view (count distinct on the multiplied cube)',
    {
      measures: ['sales.count', 'sales.customers_count'],
      dimensions: ['sales.customers_segment'],
      order: { 'sales.customers_segment': 'asc' }
    }
  ],
  [
    'view members with alias and granularity',
    {
      measures: ['sales.total_amount', 'sales.completion_rate'],
      dimensions: ['sales.status'],
      timeDimensions: [{ dimension: 'sales.created_at', granularity: 'quarter', dateRange: ['2024-01-01', '2024-12-31'] }],
      timezone: SH,
      order: [
        ['sales.created_at', 'asc'],
        ['sales.status', 'asc']
      ]
    }
  ],
  [
    'one-to-many join: distinct counts, ratios of them, min/max on the multiplied side (Cube uses key sub-queries)',
    {
      measures: [
        'orders.count',
        'orders.customer_count',
        'orders.completion_rate',
        'orders.max_amount',
        'orders.min_amount',
        'order_items.total_price',
        'order_items.count'
      ],
      dimensions: ['order_items.product'],
      order: { 'order_items.product': 'asc' }
    }
  ],
  [
    'one-to-many join used only in a filter',
    {
      measures: ['orders.count', 'orders.completed_count'],
      dimensions: ['orders.status'],
      filters: [{ member: 'order_items.product', operator: 'equals', values: ['silk'] }],
      order: { 'orders.status': 'asc' }
    }
  ],
  [
    'segments',
    {
      measures: ['orders.count', 'orders.total_amount'],
      dimensions: ['orders.status'],
      segments: ['orders.completed', 'orders.large_orders']
    }
  ],
  [
    'cube with sql (select *) and date column',
    {
      measures: ['fund_ledger.balance'],
      dimensions: ['fund_ledger.scheme'],
      timeDimensions: [{ dimension: 'fund_ledger.period', granularity: 'quarter' }],
      timezone: SH,
      order: [
        ['fund_ledger.period', 'asc'],
        ['fund_ledger.scheme', 'asc']
      ]
    }
  ],
  [
    'limit and offset with total order',
    { measures: ['orders.count'], dimensions: ['orders.customer_id'], order: { 'orders.customer_id': 'asc' }, limit: 5, offset: 3 }
  ],
  [
    'order by measure desc then dimension',
    {
      measures: ['orders.total_amount'],
      dimensions: ['orders.customer_id'],
      order: [
        ['orders.total_amount', 'desc'],
        ['orders.customer_id', 'asc']
      ],
      limit: 7
    }
  ],
  [
    'ungrouped with raw time dimension',
    {
      measures: ['orders.total_amount', 'orders.count'],
      dimensions: ['orders.id', 'orders.status', 'orders.created_at', 'orders.shipped_on', 'orders.placed_local'],
      ungrouped: true,
      filters: [{ member: 'orders.customer_id', operator: 'equals', values: ['7'] }],
      order: { 'orders.id': 'asc' }
    }
  ],
  [
    'ungrouped with granularity',
    {
      measures: ['orders.completed_count'],
      dimensions: ['orders.id'],
      ungrouped: true,
      timezone: SH,
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: ['2024-06-01', '2024-06-30'] }],
      order: { 'orders.id': 'asc' }
    }
  ],
  [
    'drill down (measureFilter + drill members)',
    {
      dimensions: ['orders.id', 'orders.status', 'customers.name', 'orders.created_at'],
      filters: [
        { member: 'orders.completed_count', operator: 'measureFilter' },
        { member: 'orders.status', operator: 'equals', values: ['completed'] }
      ],
      order: { 'orders.id': 'asc' },
      limit: 20
    }
  ]
];

function canon(rows: Record<string, unknown>[]): string[] {
  return rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k]])
      )
    )
    .sort();
}

describe("conformance with Cube's schema-compiler", () => {
  it('has at least 30 queries', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  for (const [name, query] of CASES) {
    it(name, async () => {
      const normalized = normalizeQuery(query, { now: NOW });
      const mine = (await engine.load(query, CITY_CTX)) as ResultObject;
      const cube = await oracle.load(db.pool, normalized);
      const rows = mine.data as Record<string, unknown>[];
      expect(canon(rows)).toEqual(canon(cube));
      expect(rows.length).toBeLessThanOrEqual(normalized.limit);
      if (process.env.SEMANTIC_DEBUG) console.log(name, rows.length, JSON.stringify(rows[0]));
      expect(cube.length).toBeGreaterThan(0);
    });
  }

  it('the region rule compiles to the same rows in Cube (queryRewrite equivalence)', async () => {
    const scopes: RegionScopes = {};
    for (const c of engine.model.cubes.values()) scopes[c.name] = c.regionScope;
    for (const v of engine.model.views.values()) scopes[v.name] = v.regionScope;
    let nonEmpty = 0;
    for (const [, query] of CASES.filter(([n]) => !n.includes('fund_ledger') && !n.includes('select *'))) {
      const normalized = normalizeQuery(query, { now: NOW });
      const rewritten = normalizeQuery(applyRegionRule(toRestQuery(normalized), DISTRICT_CTX, scopes), { now: NOW });
      const mine = (await engine.load(query, DISTRICT_CTX)) as ResultObject;
      const cube = await oracle.load(db.pool, rewritten);
      expect(canon(mine.data as Record<string, unknown>[])).toEqual(canon(cube));
      if (cube.length) nonEmpty += 1;
    }
    expect(nonEmpty).toBeGreaterThan(20);
  });

  it('row order matches where the order is total', async () => {
    for (const [, query] of CASES.filter(([, q]) => q.limit !== undefined || Array.isArray(q.order))) {
      const normalized: NormalizedQuery = normalizeQuery(query, { now: NOW });
      const mine = (await engine.load(query, CITY_CTX)) as ResultObject;
      expect(mine.data).toEqual(await oracle.load(db.pool, normalized));
    }
  });

  it('/meta matches CubeToMetaTransformer', () => {
    const pick = (m: Record<string, unknown>) => ({
      name: m.name,
      title: m.title,
      shortTitle: m.shortTitle,
      type: m.type,
      format: m.format,
      isVisible: m.isVisible,
      ...(m.aggType !== undefined ? { aggType: m.aggType, drillMembers: m.drillMembers, drillMembersGrouped: m.drillMembersGrouped } : {}),
      ...(m.primaryKey !== undefined ? { primaryKey: m.primaryKey } : {}),
      meta: m.meta,
      description: m.description
    });
    const shape = (cubes: Record<string, unknown>[]) =>
      cubes
        .map((c) => ({
          name: c.name,
          type: c.type,
          title: c.title,
          isVisible: c.isVisible,
          description: c.description,
          meta: c.meta,
          connectedComponent: c.connectedComponent,
          measures: (c.measures as Record<string, unknown>[]).map(pick),
          dimensions: (c.dimensions as Record<string, unknown>[]).map(pick),
          segments: (c.segments as Record<string, unknown>[]).map(pick)
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const theirs = oracle.metaConfig().map((c) => JSON.parse(JSON.stringify(c.config)));
    const ours = JSON.parse(JSON.stringify(buildMetaConfig(engine.model)));
    expect(shape(ours)).toEqual(shape(theirs));
  });
});
