// Normalized query → one parameterized PostgreSQL statement, with the semantics of Cube's
// legacy JavaScript planner (BaseQuery/PostgresQuery): join tree from join hints, LEFT JOINs
// from the root, Cube's filter SQL per operator, date_trunc in the query's zone, default
// order, LIMIT/OFFSET. Differences by design: measures that the joins would multiply are
// rejected (400) instead of being computed through key sub-queries, and the caller's region
// filter is enforced on every joined cube at SQL level (on top of queryRewrite).
// User values only ever travel as $n parameters.
import { formatFilterBound, localToUtcIso } from './dates.ts';
import { UserError } from './errors.ts';
import {
  isMemberVisible,
  resolveMemberPath,
  resolveRef,
  type CubeDef,
  type CubeMember,
  type DimensionDef,
  type JoinDef,
  type MeasureDef,
  type ResolvedMember,
  type SegmentDef,
  type SemanticModel
} from './model.ts';
import { isLeaf, type Granularity, type LeafFilter, type NormalizedQuery, type QueryFilter } from './query.ts';
import { RegionAccessError, type CallerScope } from './region-rule.js';
import { isRef, type Template } from './template.ts';

export interface PlanOptions {
  /** Clock for filter bounds that default to "today" (tests). */
  now?: Date;
  /** When set, every joined cube is held to the caller's area at SQL level. */
  caller?: CallerScope;
}

export interface PlanColumn {
  alias: string;
  /** Key of the value in a result row: `cube.member` or `cube.td.granularity`. */
  key: string;
  kind: 'dimension' | 'timeDimension' | 'measure';
  /** The queried member (`cube.td` for time dimensions). */
  member: string;
  granularity?: Granularity;
  /** Annotation type: number, string, time, boolean. */
  type: string;
}

export interface Plan {
  sql: string;
  params: unknown[];
  /** `select count(*) "total_count" from (…) "original_query"` over the same parameters. */
  totalSql: string;
  columns: PlanColumn[];
  order: { id: string; desc: boolean }[];
  rootCube: string;
  joinedCubes: string[];
  aliasNameToMember: Record<string, string>;
  timeDimensionAlias?: string;
  timeDimensionField?: string;
}

type Hint = string | string[];

const GRANULARITY_LEVEL: Record<string, number> = { second: 1, minute: 2, hour: 3, day: 4, week: 5, month: 6, quarter: 7, year: 8 };
const LIKE_OPERATORS = new Set(['contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith']);
const NUMERIC_OPERATORS = new Set(['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte']);
const NUMBER_RE = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const AGGREGATE_RE =
  /\b(count|sum|avg|min|max|array_agg|string_agg|json_agg|jsonb_agg|bool_and|bool_or|every|stddev\w*|var\w*|percentile_\w+|mode)\s*\(/i;
const CALCULATED = new Set(['number', 'string', 'time', 'boolean']);

/** inflection.underscore, as Cube names its SQL aliases. */
export function underscore(name: string): string {
  return name
    .replace(/([A-Z\d]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** Cube's SQL alias of a member path: `orders.createdAt` → `orders__created_at`. */
export function aliasName(memberPath: string): string {
  return underscore(memberPath).replace(/\./g, '__');
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const memberType = (m: CubeMember): string =>
  m.kind === 'measure' ? (CALCULATED.has(m.type) ? m.type : 'number') : m.kind === 'dimension' ? m.type : 'boolean';
const sameHint = (a: Hint, b: Hint) =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b;
const hintText = (h: Hint) => (Array.isArray(h) ? h.join('.') : h);

interface QMember {
  path: string;
  res: ResolvedMember;
}

interface JoinTree {
  root: string;
  joins: JoinDef[];
}

export function planQuery(model: SemanticModel, query: NormalizedQuery, options: PlanOptions = {}): Plan {
  return new Planner(model, query, options).plan();
}

class Planner {
  private params: unknown[] = [];
  private dimMemo = new Map<string, string>();
  private multiplied = new Map<string, boolean>();
  private readonly tz: string;

  constructor(
    private model: SemanticModel,
    private q: NormalizedQuery,
    private options: PlanOptions
  ) {
    this.tz = q.timezone;
  }

  private resolve(path: string, expect: string[], role: string): QMember {
    const res: ResolvedMember = resolveMemberPath(this.model, path); // an unknown member is a UserError
    if (!expect.includes(res.kind)) {
      throw new UserError(`'${path}' is a ${res.kind} and cannot be used as ${role}`);
    }
    return { path, res };
  }

  private param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  plan(): Plan {
    const q = this.q;
    const measures = (q.measures ?? []).map((m) => this.resolve(m, ['measure'], 'a measure'));
    const dimensions = q.dimensions.map((d) => this.resolve(d, ['dimension'], 'a dimension'));
    const segments = (q.segments ?? []).map((s) => this.resolve(s, ['segment'], 'a segment'));
    const timeDimensions = q.timeDimensions.map((td) => {
      const m = this.resolve(td.dimension, ['dimension'], 'a time dimension');
      if ((m.res.target as DimensionDef).type !== 'time')
        throw new UserError(`'${td.dimension}' is not a time dimension (type ${(m.res.target as DimensionDef).type})`);
      return { ...m, td };
    });
    const filterMembers: QMember[] = [];
    const filterTree = this.classify(q.filters, filterMembers);
    const orderMembers = (q.order ?? [])
      .map((o) => o.id.split('.'))
      .filter((parts) => parts.length >= 2)
      .map((parts) => this.resolve(parts.slice(0, 2).join('.'), ['measure', 'dimension'], 'an order key'));

    // Selected members must be public (Cube refuses to return hidden members).
    for (const m of [...measures, ...dimensions, ...timeDimensions.filter((t) => t.td.granularity)]) {
      const member = m.res.viewMember ?? m.res.target;
      if (!isMemberVisible(m.res.owner, member)) {
        throw new UserError(
          `You requested hidden member: '${m.path}'. Please make it visible using \`public: true\`. Please note primaryKey fields are \`public: false\` by default.`
        );
      }
    }

    // Join hints in Cube's order: measures, dimensions, segments, filters, measure filters,
    // time dimensions; each member's own cube, then the cubes its SQL references.
    const hints: Hint[] = [];
    const push = (h: Hint) => {
      if (!hints.some((x) => sameHint(x, h))) hints.push(h);
    };
    const whereMembers = filterMembers.filter((m) => !m.res.target || m.res.kind !== 'measure' || this.isMeasureFilterOperator(m));
    const havingMembers = filterMembers.filter((m) => !whereMembers.includes(m));
    for (const m of [...measures, ...dimensions, ...segments, ...whereMembers, ...havingMembers, ...timeDimensions]) {
      push(m.res.hint);
      this.referencedCubes(m.res.target, new Set()).forEach(push);
    }
    const tree = this.buildJoin(hints);
    for (const h of hints) {
      const cube = Array.isArray(h) ? h[h.length - 1] : h;
      this.multiplied.set(cube, this.isMultiplied(cube, tree.joins));
    }
    const joinedCubes = [tree.root, ...tree.joins.map((j) => j.to)].filter((c, i, a) => a.indexOf(c) === i);

    // Measures that the joins multiply would be inflated: refuse them.
    const usedMeasures = [...measures, ...havingMembers].map((m) => m.res.target as MeasureDef);
    if (!q.ungrouped) for (const m of usedMeasures) this.assertNoFanOut(m, new Set());

    // SELECT
    const columns: PlanColumn[] = [];
    const selects: string[] = [];
    for (const d of dimensions) {
      const alias = aliasName(d.path);
      selects.push(`${this.dimensionSql(d.res.target as DimensionDef)} ${quoteIdent(alias)}`);
      columns.push({ alias, key: d.path, member: d.path, kind: 'dimension', type: memberType(d.res.target) });
    }
    for (const t of timeDimensions) {
      if (!t.td.granularity) continue;
      const alias = `${aliasName(t.path)}_${t.td.granularity}`;
      selects.push(`${this.timeGroupedSql(t.res.target as DimensionDef, t.td.granularity)} ${quoteIdent(alias)}`);
      columns.push({
        alias,
        key: `${t.path}.${t.td.granularity}`,
        member: t.path,
        granularity: t.td.granularity,
        kind: 'timeDimension',
        type: 'time'
      });
    }
    const dimensionCount = columns.length;
    for (const m of measures) {
      const alias = aliasName(m.path);
      selects.push(`${this.measureSql(m.res.target as MeasureDef, !!q.ungrouped)} ${quoteIdent(alias)}`);
      columns.push({ alias, key: m.path, member: m.path, kind: 'measure', type: memberType(m.res.target) });
    }

    // FROM … LEFT JOIN …
    const from = [`${this.cubeSql(tree.root)} AS ${this.cubeAlias(tree.root)}`];
    for (const j of tree.joins) {
      from.push(`LEFT JOIN ${this.cubeSql(j.to)} AS ${this.cubeAlias(j.to)} ON ${this.renderTemplate(j.from, j.sql)}`);
    }

    // WHERE: date ranges, segments, dimension filters (Cube's order), then the area rule.
    const where: string[] = [];
    for (const t of timeDimensions) {
      if (!t.td.dateRange) continue;
      const col = this.dimensionSql(t.res.target as DimensionDef);
      const [from_, to] = t.td.dateRange.map((d) => localToUtcIso(d, this.tz));
      where.push(`${col} >= ${this.param(from_)}::timestamptz AND ${col} <= ${this.param(to)}::timestamptz`);
    }
    for (const s of segments) where.push(this.segmentSql(s.res.target as SegmentDef));
    for (const f of filterTree.where) {
      const sql = this.filterSql(f);
      if (sql) where.push(sql);
    }
    if (this.options.caller)
      where.push(
        ...this.regionConditions(
          [...measures, ...dimensions, ...segments, ...timeDimensions, ...filterMembers, ...orderMembers],
          joinedCubes
        )
      );
    const having: string[] = [];
    for (const f of filterTree.having) {
      const sql = this.filterSql(f);
      if (sql) having.push(sql);
    }
    if (q.ungrouped && having.length) throw new UserError("Measure filters aren't allowed in ungrouped query");

    const groupBy =
      !q.ungrouped && dimensionCount > 0 ? ` GROUP BY ${Array.from({ length: dimensionCount }, (_, i) => i + 1).join(', ')}` : '';
    const base =
      `SELECT\n      ${selects.join(', ')}\n    FROM\n      ${from.join('\n')}` +
      (where.length ? `  WHERE ${where.map((w) => `(${w})`).join(' AND ')}` : '') +
      groupBy +
      (having.length ? ` HAVING ${having.map((h) => `(${h})`).join(' AND ')}` : '');

    const order = q.order ?? this.defaultOrder(measures, dimensions, timeDimensions);
    const orderSql = order
      .map((o) => {
        const idx = this.fieldIndex(o.id, columns);
        return idx === null ? null : `${idx} ${o.desc ? 'DESC' : 'ASC'}`;
      })
      .filter((x): x is string => !!x);
    const sql =
      base +
      (orderSql.length ? ` ORDER BY ${orderSql.join(', ')}` : '') +
      (q.rowLimit != null ? ` LIMIT ${Math.trunc(q.rowLimit)}` : '') +
      (q.offset ? ` OFFSET ${Math.trunc(q.offset)}` : '');
    const totalSql = `select count(*) "total_count" from (\n${base}\n) "original_query"`;

    const firstTd = columns.find((c) => c.kind === 'timeDimension');
    return {
      sql,
      params: this.params,
      totalSql,
      columns,
      order,
      rootCube: tree.root,
      joinedCubes,
      aliasNameToMember: Object.fromEntries(columns.map((c) => [c.alias, c.key])),
      ...(firstTd ? { timeDimensionAlias: firstTd.alias, timeDimensionField: firstTd.key } : {})
    };
  }

  // -------------------------------------------------------------------------------------------
  // Filters

  private isMeasureFilterOperator(m: QMember & { operator?: string }): boolean {
    return m.operator === 'measureFilter';
  }

  /** Split top-level filters into WHERE and HAVING and resolve every member once. */
  private classify(
    filters: QueryFilter[],
    members: (QMember & { operator?: string })[]
  ): { where: ResolvedFilter[]; having: ResolvedFilter[] } {
    const where: ResolvedFilter[] = [];
    const having: ResolvedFilter[] = [];
    for (const f of filters) {
      const r = this.resolveFilter(f, members);
      if (!r) continue;
      if (r.side === 'mixed') throw new UserError(`You cannot use dimension and measure in same condition: ${JSON.stringify(f)}`);
      (r.side === 'having' ? having : where).push(r);
    }
    return { where, having };
  }

  private resolveFilter(f: QueryFilter, members: (QMember & { operator?: string })[]): ResolvedFilter | null {
    if (isLeaf(f)) {
      const m = this.resolve(f.member, ['dimension', 'measure'], 'a filter member');
      const entry = { ...m, operator: f.operator };
      members.push(entry);
      if (f.operator === 'measureFilter' && m.res.kind !== 'measure')
        throw new UserError(`measureFilter needs a measure, got '${f.member}'`);
      const side = m.res.kind === 'measure' && f.operator !== 'measureFilter' ? 'having' : 'where';
      return { side, leaf: f, member: m };
    }
    const op = 'or' in f ? 'or' : 'and';
    const inner = (f as Record<string, QueryFilter[]>)[op]
      .map((x) => this.resolveFilter(x, members))
      .filter((x): x is ResolvedFilter => !!x);
    if (!inner.length) return null;
    const sides = new Set(inner.map((x) => x.side));
    const side = sides.size > 1 || sides.has('mixed') ? 'mixed' : [...sides][0];
    return { side, op, children: inner };
  }

  private filterSql(f: ResolvedFilter): string | null {
    if (f.children) {
      const parts = f.children
        .map((c) => this.filterSql(c))
        .filter((x): x is string => !!x)
        .map((x) => `(${x})`);
      return parts.length ? parts.join(` ${f.op!.toUpperCase()} `) : null;
    }
    return this.leafSql(f.leaf!, f.member!);
  }

  private leafSql(f: LeafFilter, m: QMember): string | null {
    const target = m.res.target;
    const op = f.operator;
    if (op === 'measureFilter') {
      const measure = target as MeasureDef;
      return measure.filters.length ? measure.filters.map((t) => `(${this.renderTemplate(measure.cube, t)})`).join(' AND ') : null;
    }
    const isMeasure = target.kind === 'measure';
    const column = isMeasure ? this.measureSql(target as MeasureDef, false) : this.dimensionSql(target as DimensionDef);
    const type = isMeasure ? (target as MeasureDef).type : (target as DimensionDef).type;
    const values = f.values ?? [];
    const containsNull = values.includes(null);
    const nonNull = values.filter((v): v is string => v != null);
    const numeric = isMeasure ? memberType(target) === 'number' : type === 'number';
    if (numeric && NUMERIC_OPERATORS.has(op)) {
      for (const v of nonNull) if (!NUMBER_RE.test(v.trim())) throw new UserError(`Filter on '${f.member}' expects numbers, got '${v}'`);
    }
    if (LIKE_OPERATORS.has(op) && type !== 'string') {
      throw new UserError(`Operator ${op} needs a string member; '${f.member}' is of type ${memberType(target)}`);
    }
    const first = () => {
      if (!nonNull.length) throw new UserError(`Expected one parameter but nothing found for filter: ${JSON.stringify(f)}`);
      return this.param(nonNull[0]);
    };
    const orIsNull = (not: boolean) => ((not ? !containsNull : containsNull) ? ` OR ${column} IS NULL` : '');
    const inList = (not: boolean) => {
      if (!nonNull.length) return not ? `${column} IS NOT NULL` : `${column} IS NULL`;
      return `${column}${not ? ' NOT' : ''} IN (${nonNull.map((v) => this.param(v)).join(', ')})${orIsNull(not)}`;
    };
    const like = (not: boolean, kind: 'contains' | 'starts' | 'ends') => {
      if (!nonNull.length) throw new UserError(`Values required for filter: ${JSON.stringify(f)}`);
      const pre = kind === 'contains' || kind === 'ends' ? "'%' || " : '';
      const post = kind === 'contains' || kind === 'starts' ? " || '%'" : '';
      const parts = nonNull.map((v) => `${column}${not ? ' NOT' : ''} ILIKE ${pre}${this.param(v.replace(/([\\_%])/g, '\\$1'))}${post}`);
      return `${parts.join(not ? ' AND ' : ' OR ')}${orIsNull(not)}`;
    };
    const ts = (p: string) => (type === 'string' ? p : `${p}::timestamptz`);
    const bound = (value: string | null | undefined, side: 'from' | 'to') =>
      ts(this.param(localToUtcIso(formatFilterBound(value, side, this.tz, this.options.now), this.tz)));
    switch (op) {
      case 'equals':
        if (values.length > 1) return inList(false);
        if (containsNull) return `${column} IS NULL`;
        return `${column} = ${first()}`;
      case 'in':
        return inList(false);
      case 'notEquals':
        if (values.length > 1) return inList(true);
        if (containsNull) return `${column} IS NOT NULL`;
        return `${column} <> ${first()} OR ${column} IS NULL`;
      case 'notIn':
        return inList(true);
      case 'contains':
        return like(false, 'contains');
      case 'notContains':
        return like(true, 'contains');
      case 'startsWith':
        return like(false, 'starts');
      case 'notStartsWith':
        return like(true, 'starts');
      case 'endsWith':
        return like(false, 'ends');
      case 'notEndsWith':
        return like(true, 'ends');
      case 'gt':
        return `${column} > ${first()}`;
      case 'gte':
        return `${column} >= ${first()}`;
      case 'lt':
        return `${column} < ${first()}`;
      case 'lte':
        return `${column} <= ${first()}`;
      case 'set':
        return `${column} IS NOT NULL`;
      case 'notSet':
        return `${column} IS NULL`;
      case 'inDateRange':
      case 'onTheDate': {
        const from = bound(values[0], 'from');
        const to = bound(values[1], 'to');
        return `${column} >= ${from} AND ${column} <= ${to}`;
      }
      case 'notInDateRange': {
        const from = bound(values[0], 'from');
        const to = bound(values[1], 'to');
        return `${column} < ${from} OR ${column} > ${to}`;
      }
      // Cube reads the single value of these with the range-start rules (a bare date means
      // its midnight), whichever side it bounds.
      case 'beforeDate':
        return `${column} < ${bound(values[0], 'from')}`;
      case 'beforeOrOnDate':
        return `${column} <= ${bound(values[0], 'from')}`;
      case 'afterDate':
        return `${column} > ${bound(values[0], 'from')}`;
      case 'afterOrOnDate':
        return `${column} >= ${bound(values[0], 'from')}`;
      default:
        throw new UserError(`Operator ${op} not supported for filter: ${JSON.stringify(f)}`);
    }
  }

  /**
   * The area rule again, at SQL level and independent of queryRewrite: the region dimension of
   * every scoped cube or view the query names is held to the caller's area, a named owner
   * without a scope is refused, and so is any joined cube without one (a validated model
   * never joins those from scoped cubes). Cubes with `region_scope: none` are free.
   */
  private regionConditions(owners: QMember[], joinedCubes: string[]): string[] {
    const caller = this.options.caller!;
    if (caller.cityWide) return [];
    const out = new Map<string, string>();
    for (const m of owners) {
      const owner = m.res.owner;
      const scope = owner.regionScope;
      if (scope?.mode === 'none' || out.has(owner.name)) continue;
      if (!scope) throw new RegionAccessError(`'${owner.name}' has no region scope; only city-wide callers may query it`);
      const dim =
        owner.kind === 'cube' ? owner.dimensions.get(scope.dimension)! : (owner.dimensions.get(scope.dimension)!.target as DimensionDef);
      out.set(
        owner.name,
        caller.regionPath
          ? `${this.dimensionSql(dim)} ILIKE ${this.param(caller.regionPath)} || '%'`
          : `${this.dimensionSql(dim)} ILIKE '%' || ${this.param(`/${caller.regionCode}/`)} || '%'`
      );
    }
    for (const name of joinedCubes) {
      if (!this.model.cubes.get(name)!.regionScope)
        throw new RegionAccessError(`'${name}' has no region scope; only city-wide callers may query it`);
    }
    return [...out.values()];
  }

  // -------------------------------------------------------------------------------------------
  // Joins

  private referencedCubes(member: CubeMember, seen: Set<string>): string[] {
    if (seen.has(member.path)) return [];
    seen.add(member.path);
    const out: string[] = [];
    for (const t of memberTemplates(member)) {
      for (const p of t.parts) {
        if (!isRef(p)) continue;
        const r = resolveRef(this.model, member.cube, p.ref);
        if (r.kind === 'cube') {
          if (r.cube.name !== member.cube) out.push(r.cube.name);
          continue;
        }
        if (r.member.cube !== member.cube) out.push(r.member.cube);
        out.push(...this.referencedCubes(r.member, seen));
      }
    }
    return out;
  }

  /** JoinGraph.buildJoin: a tree per candidate root, the one with the fewest joins wins. */
  private buildJoin(hints: Hint[]): JoinTree {
    const trees = hints
      .map((h) =>
        this.treeForRoot(
          h,
          hints.filter((x) => !sameHint(x, h))
        )
      )
      .filter((t): t is JoinTree => !!t);
    if (!trees.length) throw new UserError(`Can't find join path to join ${hints.map((h) => `'${hintText(h)}'`).join(', ')}`);
    let best = trees[0];
    for (const t of trees) if (t.joins.length < best.joins.length) best = t;
    return best;
  }

  private treeForRoot(rootHint: Hint, others: Hint[]): JoinTree | null {
    let root: string;
    let toJoin = others;
    if (Array.isArray(rootHint)) {
      const [r, ...rest] = rootHint;
      root = r;
      if (rest.length) toJoin = [rest, ...others];
    } else root = rootHint;
    const joined = new Set<string>();
    const joins: JoinDef[] = [];
    for (const hint of toJoin) {
      const path = Array.isArray(hint) ? hint : [hint];
      let prev = root;
      for (const target of path.filter((x) => x !== root)) {
        if (joined.has(target)) {
          prev = target;
          continue;
        }
        const nodes = this.shortestPath(prev, target);
        if (!nodes) return null;
        for (let i = 0; i < nodes.length - 1; i++) {
          const edge = this.model.edges.get(nodes[i])!.get(nodes[i + 1])!;
          if (!joins.includes(edge)) joins.push(edge);
        }
        prev = target;
        joined.add(target);
      }
    }
    return { root, joins };
  }

  private shortestPath(from: string, to: string): string[] | null {
    if (from === to) return [from];
    const previous = new Map<string, string>();
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length) {
      const node = queue.shift()!;
      for (const next of this.model.edges.get(node)?.keys() ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        previous.set(next, node);
        if (next === to) {
          const path = [to];
          let cur = to;
          while (previous.has(cur)) {
            cur = previous.get(cur)!;
            path.unshift(cur);
          }
          return path;
        }
        queue.push(next);
      }
    }
    return null;
  }

  /** JoinGraph.findMultiplicationFactorFor: does a join in the tree repeat this cube's rows? */
  private isMultiplied(cube: string, joins: JoinDef[]): boolean {
    const visited = new Set<string>();
    const multipliedBy = (current: string, j: JoinDef) =>
      (j.from === current && j.relationship === 'hasMany') || (j.to === current && j.relationship === 'belongsTo');
    const walk = (current: string): boolean => {
      if (visited.has(current)) return false;
      visited.add(current);
      const next = joins.filter((j) => j.from === current || j.to === current);
      const other = (j: JoinDef) => (j.from === current ? j.to : j.from);
      if (next.some((j) => multipliedBy(current, j) && !visited.has(other(j)))) return true;
      return next.some((j) => walk(other(j)));
    };
    return walk(cube);
  }

  private assertNoFanOut(m: MeasureDef, seen: Set<string>): void {
    if (seen.has(m.path)) return;
    seen.add(m.path);
    const multiplied = this.multiplied.get(m.cube) ?? false;
    const refs = measureRefs(this.model, m);
    if (multiplied) {
      const safe =
        m.type === 'countDistinct' ||
        (m.type === 'count' && !m.sql) ||
        m.type === 'min' ||
        m.type === 'max' ||
        (CALCULATED.has(m.type) && refs.length > 0 && !AGGREGATE_RE.test(ownText(m)));
      if (!safe) {
        throw new UserError(
          `Query would fan out: measure '${m.path}' (${m.type}) belongs to cube '${m.cube}', whose rows are repeated by a ` +
            `one-to-many join in this query, so the result would be inflated. Query it without members of the joined ` +
            `"many" side, or from that side's cube.`
        );
      }
    }
    for (const r of refs) this.assertNoFanOut(r, seen);
  }

  // -------------------------------------------------------------------------------------------
  // Member SQL

  private cubeAlias(cubeName: string): string {
    return quoteIdent(underscore(cubeName));
  }

  private cubeSql(cubeName: string): string {
    const cube = this.model.cubes.get(cubeName)!;
    if (cube.sqlTable) return this.renderTemplate(cubeName, cube.sqlTable);
    const sql = this.renderTemplate(cubeName, cube.sql!);
    const star = sql.match(/^\s*select\s+\*\s+from\s+([a-zA-Z0-9_\-`".*]+)\s*$/i);
    return star ? star[1] : `(${sql})`;
  }

  private autoPrefix(cubeName: string, sql: string): string {
    return /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(sql) ? `${this.cubeAlias(cubeName)}.${sql}` : sql;
  }

  private renderTemplate(cubeName: string, t: Template): string {
    let out = '';
    for (const p of t.parts) {
      if (!isRef(p)) {
        out += p.text;
        continue;
      }
      const r = resolveRef(this.model, cubeName, p.ref);
      if (r.kind === 'cube') out += this.cubeAlias(r.cube.name);
      else if (r.member.kind === 'dimension') out += this.dimensionSql(r.member);
      else if (r.member.kind === 'measure') out += this.measureSql(r.member, !!this.q.ungrouped);
      else out += this.segmentSql(r.member);
    }
    return out;
  }

  dimensionSql(d: DimensionDef): string {
    const memo = this.dimMemo.get(d.path);
    if (memo !== undefined) return memo;
    let sql: string;
    if (d.case) {
      const label = (l: string | { sql: Template }) =>
        typeof l === 'string' ? `'${l.replace(/'/g, "''")}'` : this.renderTemplate(d.cube, l.sql);
      sql = `CASE\n    ${d.case.when.map((w) => `WHEN ${this.renderTemplate(d.cube, w.sql)} THEN ${label(w.label)}`).join('\n')}${d.case.else !== undefined ? ` ELSE ${label(d.case.else)}` : ''} END`;
    } else {
      sql = this.autoPrefix(d.cube, this.renderTemplate(d.cube, d.sql!));
    }
    this.dimMemo.set(d.path, sql);
    return sql;
  }

  private segmentSql(s: SegmentDef): string {
    return this.autoPrefix(s.cube, this.renderTemplate(s.cube, s.sql));
  }

  private timeGroupedSql(d: DimensionDef, granularity: Granularity): string {
    return `date_trunc('${granularity}', (${this.dimensionSql(d)}::timestamptz AT TIME ZONE '${this.tz}'))`;
  }

  private primaryKeySql(cube: CubeDef): string | null {
    if (!cube.primaryKeys.length) return null;
    const keys = cube.primaryKeys.map((k) => this.dimensionSql(cube.dimensions.get(k)!));
    return keys.length > 1 ? keys.map((k) => `CAST(${k} as TEXT)`).join(' || ') : keys[0];
  }

  /** BaseQuery.renderSqlMeasure for the non-multiplied (and fan-out-safe) cases. */
  private measureSql(m: MeasureDef, ungrouped: boolean): string {
    const cube = this.model.cubes.get(m.cube)!;
    let sql = m.sql ? this.renderTemplate(m.cube, m.sql) : (this.primaryKeySql(cube) ?? '*');
    sql = this.autoPrefix(m.cube, sql);
    if (m.filters.length) {
      const cond = m.filters.map((f) => `(${this.renderTemplate(m.cube, f)})`).join(' AND ');
      sql = `CASE WHEN ${cond} THEN ${sql === '*' ? '1' : sql} END`;
    }
    if (ungrouped) {
      if (m.type === 'count' || m.type === 'countDistinct') return sql === '*' ? '1' : `CASE\n    WHEN (${sql}) IS NOT NULL THEN 1 END`;
      return sql;
    }
    const multiplied = this.multiplied.get(m.cube) ?? false;
    if (m.type === 'countDistinct' || (m.type === 'count' && !m.sql && multiplied)) return `count(distinct ${sql})`;
    if (CALCULATED.has(m.type)) return sql;
    return `${m.type}(${sql})`;
  }

  // -------------------------------------------------------------------------------------------
  // Order

  private defaultOrder(
    measures: QMember[],
    dimensions: QMember[],
    tds: (QMember & { td: { granularity?: string } })[]
  ): { id: string; desc: boolean }[] {
    const withGranularity = tds.find((t) => t.td.granularity);
    if (withGranularity) return [{ id: withGranularity.path, desc: false }];
    if (measures.length && dimensions.length) return [{ id: measures[0].path, desc: true }];
    if (dimensions.length) return [{ id: dimensions[0].path, desc: false }];
    return [];
  }

  /** BaseQuery.getFieldIndex: 1-based position of an order key in the select list. */
  private fieldIndex(id: string, columns: PlanColumn[]): number | null {
    const eq = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();
    const parts = id.split('.');
    if (parts.length === 3) {
      const member = parts.slice(0, 2).join('.');
      const i = columns.findIndex((c) => c.kind === 'timeDimension' && eq(c.member, member) && c.granularity === parts[2]);
      return i >= 0 ? i + 1 : null;
    }
    let index = -1;
    let minLevel = Infinity;
    let minIndex = -1;
    columns.forEach((c, i) => {
      if (c.kind === 'measure' || !eq(c.member, id)) return;
      index = i;
      if (c.granularity && GRANULARITY_LEVEL[c.granularity] < minLevel) {
        minLevel = GRANULARITY_LEVEL[c.granularity];
        minIndex = i;
      }
    });
    if (minIndex >= 0) return minIndex + 1;
    if (index >= 0) return index + 1;
    const m = columns.findIndex((c) => c.kind === 'measure' && eq(c.member, id));
    return m >= 0 ? m + 1 : null;
  }
}

interface ResolvedFilter {
  side: 'where' | 'having' | 'mixed';
  op?: 'or' | 'and';
  children?: ResolvedFilter[];
  leaf?: LeafFilter;
  member?: QMember;
}

function memberTemplates(member: CubeMember): Template[] {
  if (member.kind === 'segment') return [member.sql];
  if (member.kind === 'measure') return [...(member.sql ? [member.sql] : []), ...member.filters];
  const out: Template[] = member.sql ? [member.sql] : [];
  for (const w of member.case?.when ?? []) {
    out.push(w.sql);
    if (typeof w.label !== 'string') out.push(w.label.sql);
  }
  if (member.case?.else && typeof member.case.else !== 'string') out.push(member.case.else.sql);
  return out;
}

function measureRefs(model: SemanticModel, m: MeasureDef): MeasureDef[] {
  const out: MeasureDef[] = [];
  for (const t of memberTemplates(m)) {
    for (const p of t.parts) {
      if (!isRef(p)) continue;
      const r = resolveRef(model, m.cube, p.ref);
      if (r.kind === 'member' && r.member.kind === 'measure') out.push(r.member);
    }
  }
  return out;
}

function ownText(m: MeasureDef): string {
  return (m.sql?.parts ?? []).map((p) => (isRef(p) ? ' ' : p.text)).join('');
}
