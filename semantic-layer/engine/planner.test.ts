// Unit tests without a database: query normalization and its errors, SQL generation (values
// only ever as $n parameters), join/fan-out rules, model validation and the region rule.
import { describe, expect, it } from 'vitest';
import { TEST_MODEL_DIR } from '../test-model/fixture.ts';
import { ModelError, UserError } from './errors.ts';
import { loadModel } from './model.ts';
import { planQuery } from './planner.ts';
import { normalizeQuery, toRestQuery } from './query.ts';
import { applyRegionRule, callerScope, ownersTouched, RegionAccessError, regionScopeOf } from './region-rule.js';

const model = loadModel(TEST_MODEL_DIR);
const plan = (q: Record<string, unknown>, caller?: ReturnType<typeof callerScope>) => planQuery(model, normalizeQuery(q), { caller });
const userError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
};

describe('normalizeQuery', () => {
  it("applies Cube's defaults and moves cube.td.granularity dimensions to timeDimensions", () => {
    const q = normalizeQuery({
      measures: ['orders.count'],
      dimensions: ['orders.status', 'orders.created_at.month'],
      order: { 'orders.count': 'desc' }
    });
    expect(q).toEqual({
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month' }],
      filters: [],
      order: [{ id: 'orders.count', desc: true }],
      limit: 10000,
      rowLimit: 10000,
      timezone: 'UTC'
    });
    expect(normalizeQuery(toRestQuery(q))).toEqual(q);
  });

  it('normalizes filters: dimension → member, values to strings, relative dates resolved', () => {
    const q = normalizeQuery(
      {
        measures: ['orders.count'],
        filters: [
          { dimension: 'orders.quantity', operator: 'gt', values: [3] },
          { or: [{ member: 'orders.created_at', operator: 'inDateRange', values: ['last month'] }] }
        ],
        timezone: 'Asia/Shanghai'
      },
      { now: new Date('2024-06-30T20:00:00Z') }
    );
    expect(q.filters).toEqual([
      { member: 'orders.quantity', operator: 'gt', values: ['3'] },
      { or: [{ member: 'orders.created_at', operator: 'inDateRange', values: ['2024-06-01T00:00:00.000', '2024-06-30T23:59:59.999'] }] }
    ]);
  });

  it('rejects malformed queries with UserErrors', () => {
    expect(userError(() => normalizeQuery('nope'))).toMatch(/Invalid query format/);
    expect(userError(() => normalizeQuery({}))).toMatch(/should contain either measures, dimensions or timeDimensions/);
    expect(userError(() => normalizeQuery({ measures: ['orders'] }))).toMatch(/fails to match the required pattern/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], sql: 'select 1' }))).toMatch(/"sql" is not allowed/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], limit: 50001 }))).toMatch(/query limit has been exceeded/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], limit: 10.5 }))).toMatch(/must be an integer/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], limit: '10' }))).toMatch(/must be a number/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], offset: -1 }))).toMatch(/greater than or equal to 0/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], timezone: 'Nowhere/City' }))).toMatch(/valid IANA time zone/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], filters: [{ member: 'orders.status', values: ['x'] }] }))).toMatch(
      /Operator required/
    );
    expect(
      userError(() =>
        normalizeQuery({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'like', values: ['x'] }] })
      )
    ).toMatch(/Operator like not supported/);
    expect(
      userError(() => normalizeQuery({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equals' }] }))
    ).toMatch(/Values required/);
    expect(
      userError(() =>
        normalizeQuery({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equals', values: [{ a: 1 }] }] })
      )
    ).toMatch(/must be one of/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], filters: [{ or: [], and: [] }] }))).toMatch(/conflict/);
    expect(userError(() => normalizeQuery({ measures: ['orders.count'], order: { 'orders.count': 'up' } }))).toMatch(/asc, desc/);
    expect(
      userError(() =>
        normalizeQuery({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fortnight' }] })
      )
    ).toMatch(/Granularity 'fortnight'/);
    expect(
      userError(() =>
        normalizeQuery({
          measures: ['orders.count'],
          timeDimensions: [{ dimension: 'orders.created_at', compareDateRange: ['this week', 'last week'] }]
        })
      )
    ).toMatch(/compareDateRange/);
    expect(
      userError(() =>
        normalizeQuery({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: 'whenever' }] })
      )
    ).toMatch(/Can't parse date/);
  });
});

describe('planQuery', () => {
  it('binds every user value as a parameter, never as SQL text', () => {
    const evil = "x'); DROP TABLE sl_orders; --";
    const p = plan({
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [
        { member: 'orders.status', operator: 'equals', values: [evil] },
        { member: 'orders.note', operator: 'contains', values: [evil, '100%_sure'] },
        { member: 'orders.created_at', operator: 'beforeDate', values: ['2024-01-01T00:00:00'] },
        { member: 'orders.count', operator: 'gt', values: ['5'] }
      ],
      timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2023-01-01', '2023-12-31'] }],
      timezone: 'Asia/Shanghai'
    });
    expect(p.sql).not.toContain('DROP');
    expect(p.sql).not.toContain('sure');
    expect(p.params).toEqual([
      '2022-12-31T16:00:00.000Z',
      '2023-12-31T15:59:59.999Z',
      evil,
      evil.replace('_', '\\_'),
      '100\\%\\_sure',
      '2023-12-31T16:00:00.000Z',
      '5'
    ]);
    expect(p.sql).toMatch(/"orders"\.created_at >= \$1::timestamptz AND "orders"\.created_at <= \$2::timestamptz/);
    expect(p.sql).toMatch(/HAVING \(count\("orders"\.id\) > \$7\)/);
  });

  it("renders Cube's SQL shapes: date_trunc in the query zone, filtered aggregates, default order and limit", () => {
    const p = plan({
      measures: ['orders.completed_amount', 'orders.completion_rate'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week' }],
      timezone: 'Asia/Shanghai'
    });
    expect(p.sql).toContain(
      `date_trunc('week', ("orders".created_at::timestamptz AT TIME ZONE 'Asia/Shanghai')) "orders__created_at_week"`
    );
    expect(p.sql).toContain(
      `sum(CASE WHEN ("orders".status = 'completed') AND ("orders".amount > 0) THEN "orders".amount END) "orders__completed_amount"`
    );
    expect(p.sql).toContain(
      `1.0 * count(CASE WHEN ("orders".status = 'completed') THEN "orders".id END) / NULLIF(count("orders".id), 0) "orders__completion_rate"`
    );
    expect(p.sql).toMatch(/GROUP BY 1 ORDER BY 1 ASC LIMIT 10000$/);
    expect(p.order).toEqual([{ id: 'orders.created_at', desc: false }]);
  });

  it('joins many-to-one cubes with LEFT JOIN from the root', () => {
    const p = plan({ measures: ['orders.count'], dimensions: ['regions.name'] });
    expect(p.rootCube).toBe('orders');
    expect(p.joinedCubes).toEqual(['orders', 'customers', 'regions']);
    expect(p.sql).toContain('LEFT JOIN sl_customers AS "customers" ON "orders".customer_id = "customers".id');
    expect(p.sql).toContain('LEFT JOIN sl_regions AS "regions" ON "customers".region_code = "regions".code');
  });

  it('rejects measures the joins would multiply (fan-out), allows the safe ones', () => {
    expect(userError(() => plan({ measures: ['orders.total_amount'], dimensions: ['order_items.product'] }))).toMatch(
      /Query would fan out: measure 'orders.total_amount'/
    );
    expect(userError(() => plan({ measures: ['orders.amount_per_customer'], dimensions: ['order_items.product'] }))).toMatch(
      /fan out: measure 'orders.total_amount'/
    );
    // a ratio of distinct counts stays exact on the multiplied side
    expect(plan({ measures: ['orders.completion_rate'], dimensions: ['order_items.product'] }).sql).toContain(
      'NULLIF(count(distinct "orders".id), 0)'
    );
    const ok = plan({
      measures: ['orders.count'],
      filters: [{ member: 'order_items.product', operator: 'equals', values: ['tea'] }],
      dimensions: ['orders.status']
    });
    expect(ok.sql).toContain('count(distinct "orders".id)');
  });

  it('treats count without sql and count_distinct on the multiplied side as distinct counts', () => {
    const p = plan({ measures: ['orders.count', 'orders.customer_count', 'order_items.total_price'], dimensions: ['order_items.product'] });
    expect(p.sql).toContain('count(distinct "orders".id) "orders__count"');
    expect(p.sql).toContain('count(distinct "orders".customer_id) "orders__customer_count"');
    expect(p.sql).toContain('sum("order_items".price) "order_items__total_price"');
  });

  it('reports unknown and hidden members like Cube', () => {
    expect(userError(() => plan({ measures: ['nope.count'] }))).toBe("Cube 'nope' not found for path 'nope.count'");
    expect(userError(() => plan({ measures: ['orders.nope'] }))).toBe("'nope' not found for path 'orders.nope'");
    expect(userError(() => plan({ measures: ['orders.status'] }))).toMatch(/is a dimension/);
    expect(userError(() => plan({ dimensions: ['orders.region_path'] }))).toMatch(/You requested hidden member: 'orders.region_path'/);
    expect(userError(() => plan({ dimensions: ['customers.id'] }))).toMatch(/hidden member/);
    expect(
      userError(() => plan({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.status', granularity: 'day' }] }))
    ).toMatch(/not a time dimension/);
    expect(
      userError(() => plan({ measures: ['orders.count'], filters: [{ member: 'orders.quantity', operator: 'gt', values: ['1; select'] }] }))
    ).toMatch(/expects numbers/);
    expect(
      userError(() => plan({ measures: ['orders.count'], filters: [{ member: 'orders.quantity', operator: 'contains', values: ['1'] }] }))
    ).toMatch(/needs a string member/);
    expect(
      userError(() =>
        plan({
          measures: ['orders.count'],
          filters: [
            {
              or: [
                { member: 'orders.count', operator: 'gt', values: ['1'] },
                { member: 'orders.status', operator: 'set' }
              ]
            }
          ]
        })
      )
    ).toMatch(/cannot use dimension and measure in same condition/);
    // filtering on a hidden dimension is allowed (that is how the region rule works)
    expect(
      plan({ measures: ['orders.count'], filters: [{ member: 'orders.region_path', operator: 'contains', values: ['/330602/'] }] }).params
    ).toEqual(['/330602/']);
  });

  it('adds the area condition for every scoped owner and refuses unscoped cubes below city level', () => {
    const district = callerScope({ region_code: '330602', region_level: 'district' });
    const p = plan({ measures: ['orders.count'], dimensions: ['customers.segment'] }, district);
    expect(p.sql).toContain(`("orders".region_path ILIKE '%' || $1 || '%')`);
    expect(p.sql).toContain(`("customers".region_path ILIKE '%' || $2 || '%')`);
    expect(p.params).toEqual(['/330602/', '/330602/']);
    const v = plan({ measures: ['sales.count'], dimensions: ['sales.customers_name'] }, district);
    expect(v.sql).toContain(`("orders".region_path ILIKE '%' || $1 || '%')`);
    expect(() => plan({ measures: ['audit_notes.count'] }, district)).toThrow(RegionAccessError);
    expect(plan({ measures: ['audit_notes.count'] }, callerScope({ region_code: '330600', region_level: 'city' })).params).toEqual([]);
    expect(plan({ measures: ['fund_ledger.balance'] }, district).params).toEqual([]);
    // With the caller's path the SQL-level condition is a prefix too.
    const withPath = plan(
      { measures: ['orders.count'] },
      callerScope({ region_code: '330602', region_level: 'district', region_path: '/330600/330602/' })
    );
    expect(withPath.sql).toContain(`("orders".region_path ILIKE $1 || '%')`);
    expect(withPath.params).toEqual(['/330600/330602/']);
  });
});

describe('region rule (shared with cube.js)', () => {
  const scopes = {
    orders: { mode: 'path' as const, dimension: 'region_path' },
    fund_ledger: { mode: 'none' as const },
    audit_notes: undefined
  };

  it('adds one contains filter per scoped owner, ANDed at the top level', () => {
    const q = { measures: ['orders.count', 'fund_ledger.balance'], filters: [{ or: [{ member: 'orders.status', operator: 'set' }] }] };
    expect(applyRegionRule(q, { region_code: '330602', region_level: 'district' }, scopes)).toEqual({
      ...q,
      filters: [...q.filters, { member: 'orders.region_path', operator: 'contains', values: ['/330602/'] }]
    });
    expect(applyRegionRule(q, { region_code: '330600', region_level: 'city' }, scopes)).toBe(q);
  });

  it('filters by prefix when the caller carries its region path (an index can serve it)', () => {
    const q = { measures: ['orders.count'] };
    expect(applyRegionRule(q, { region_code: '330602', region_level: 'district', region_path: '/330600/330602/' }, scopes)).toEqual({
      ...q,
      filters: [{ member: 'orders.region_path', operator: 'startsWith', values: ['/330600/330602/'] }]
    });
  });

  it('finds owners in filters, or/and groups, time dimensions, segments and order', () => {
    expect(
      [
        ...ownersTouched({
          measures: ['a.x'],
          dimensions: ['b.y.month'],
          segments: ['c.s'],
          timeDimensions: [{ dimension: 'd.t' }],
          filters: [{ or: [{ and: [{ member: 'e.f', operator: 'set' }] }, { dimension: 'g.h', operator: 'set' }] }],
          order: [['i.j', 'asc']]
        })
      ].sort()
    ).toEqual(['a', 'b', 'c', 'd', 'e', 'g', 'i']);
    expect([...ownersTouched({ order: { 'k.l': 'desc' } })]).toEqual(['k']);
  });

  it('refuses unscoped owners and bad scope claims', () => {
    expect(() => applyRegionRule({ measures: ['audit_notes.count'] }, { region_code: '330602', region_level: 'district' }, scopes)).toThrow(
      /no region scope/
    );
    expect(() => applyRegionRule({ measures: ['unknown.count'] }, { region_code: '330602' }, scopes)).toThrow(RegionAccessError);
    expect(() => callerScope({ role: 'admin' })).toThrow(/no valid region_code/);
    expect(() => callerScope({ region_code: '33%' })).toThrow(/no valid region_code/);
    expect(() => callerScope({ region_code: '330602/' })).toThrow(/no valid region_code/);
    expect(() => callerScope({ region_code: '330602', region_level: 'planet' })).toThrow(/unknown region_level/);
    expect(callerScope({ region_code: '330602' })).toEqual({ regionCode: '330602', regionLevel: null, cityWide: false, regionPath: null });
    // A path claim must be the path of region_code: one that ends elsewhere could widen the area.
    expect(callerScope({ region_code: '330602', region_path: '/330600/330602/' }).regionPath).toBe('/330600/330602/');
    for (const bad of ['/330600/', '/330600/330602', '330600/330602/', '/330600/3306022/', '/330600/%/330602/', '//330602/', 330602]) {
      expect(() => callerScope({ region_code: '330602', region_level: 'district', region_path: bad })).toThrow(
        /region_path must be the path of its region_code/
      );
    }
  });

  it('reads region_scope from meta', () => {
    expect(regionScopeOf(undefined)).toBeUndefined();
    expect(regionScopeOf({ region_scope: 'none' })).toEqual({ mode: 'none' });
    expect(regionScopeOf({ region_scope: { dimension: 'region_path' } })).toEqual({ mode: 'path', dimension: 'region_path' });
    expect(() => regionScopeOf({ region_scope: 'district' })).toThrow(/must be 'none'/);
  });
});

describe('loadModel validation', () => {
  const load = (yaml: string) => loadModel('/virtual', { files: [{ fileName: 'cubes/x.yml', content: yaml }] });
  const problems = (yaml: string): string => {
    try {
      load(yaml);
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      return (e as ModelError).problems.join('\n');
    }
    throw new Error('expected a ModelError');
  };
  const cube = (body: string) => `cubes:\n  - name: a\n    sql_table: t\n${body}`;

  it('accepts snake_case and camelCase keys alike', () => {
    const m = load(
      `cubes:\n  - name: a\n    sqlTable: t\n    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primaryKey: true\n    measures:\n      - name: n\n        type: countDistinct\n        sql: id\n        drillMembers: [id]\n`
    );
    expect(m.cubes.get('a')!.primaryKeys).toEqual(['id']);
    expect(m.cubes.get('a')!.measures.get('n')!.type).toBe('countDistinct');
  });

  it('reports unknown references, cycles and unsupported expressions', () => {
    expect(problems(cube('    dimensions:\n      - name: d\n        sql: "{CUBE}.x + {nothing}"\n'))).toMatch(
      /unknown reference \{nothing\}/
    );
    expect(problems(cube('    dimensions:\n      - name: d\n        sql: "{e}"\n      - name: e\n        sql: "{d}"\n'))).toMatch(
      /cyclic reference: a\.(d|e) → a\.(e|d) → a\.(d|e)/
    );
    expect(problems(cube('    dimensions:\n      - name: d\n        sql: "{SECURITY_CONTEXT.x}"\n'))).toMatch(/unknown reference/);
    expect(problems(cube('    dimensions:\n      - name: d\n        sql: "{1 + 1}"\n'))).toMatch(/unsupported expression/);
    expect(
      problems(cube('    measures:\n      - name: m\n        sql: "{n}"\n        type: sum\n      - name: n\n        type: count\n'))
    ).toMatch(/only measures of type number/);
  });

  it('requires primary keys on joined cubes, exactly one of sql/sql_table, valid types', () => {
    const yaml = `cubes:\n  - name: a\n    sql_table: t\n    joins:\n      - name: b\n        relationship: many_to_one\n        sql: "{CUBE}.b_id = {b.id}"\n    measures:\n      - name: n\n        type: count\n    dimensions:\n      - name: k\n        sql: k\n        primary_key: true\n  - name: b\n    sql_table: u\n    measures:\n      - name: total\n        sql: v\n        type: sum\n    dimensions:\n      - name: id\n        sql: id\n`;
    expect(problems(yaml)).toMatch(/primary key for 'b' is required/);
    expect(problems('cubes:\n  - name: a\n    sql_table: t\n    sql: select 1\n')).toMatch(/exactly one of 'sql' and 'sql_table'/);
    expect(problems(cube('    measures:\n      - name: m\n        type: median\n        sql: x\n'))).toMatch(
      /type 'median' is not supported/
    );
    expect(problems(cube('    joins:\n      - name: zzz\n        relationship: belongs_to\n        sql: "1 = 1"\n'))).toMatch(
      /cube 'zzz' doesn't exist/
    );
    expect(problems('views:\n  - name: v\n    cubes:\n      - join_path: a.b\n        includes: "*"\n')).toMatch(/cube 'a' doesn't exist/);
    expect(problems('other: 1\n')).toMatch(/unexpected top-level key 'other'/);
  });

  it('checks the region scope convention', () => {
    expect(problems(cube('    meta:\n      region_scope:\n        dimension: nope\n'))).toMatch(
      /region_scope.dimension 'nope' is not a dimension/
    );
    expect(problems(cube('    meta:\n      region_scope: districts\n'))).toMatch(/must be 'none'/);
    const view = `cubes:\n  - name: a\n    sql_table: t\n    meta: { region_scope: { dimension: p } }\n    dimensions:\n      - name: p\n        sql: p\n      - name: q\n        sql: q\nviews:\n  - name: v\n    meta: { region_scope: { dimension: q } }\n    cubes:\n      - join_path: a\n        includes: [p, q]\n  - name: w\n    meta: { region_scope: none }\n    cubes:\n      - join_path: a\n        includes: [q]\n`;
    const text = problems(view);
    expect(text).toMatch(/view 'v': region scope dimension 'q' must be the region_scope dimension of its cube/);
    expect(text).toMatch(/view 'w': declares region_scope none but exposes region-scoped cube\(s\) a/);
    expect(
      problems(
        `${cube('    meta: { region_scope: none }\n    dimensions:\n      - name: x\n        sql: "{b.y}"\n')}  - name: b\n    sql_table: u\n    dimensions:\n      - name: y\n        sql: y\n`
      )
    ).toMatch(/its SQL reaches cube 'b', which declares none/);
  });

  it("keeps YAML strings compatible with Cube's f-string reading", () => {
    expect(problems(cube('    title: "Rate {x}"\n'))).toMatch(/title contains '\{' or '\}'/);
    expect(load(cube('    title: "Rate {{x}}"\n')).cubes.get('a')!.title).toBe('Rate {x}');
  });
});
