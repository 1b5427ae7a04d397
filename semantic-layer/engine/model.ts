// Loads and validates a Cube YAML data model (model/cubes/*.yml, model/views/*.yml): cubes with
// sql/sql_table, joins, measures, dimensions, segments and views over join paths. Every `{…}`
// reference is resolved here, so a loaded model has no unknown references, no cycles and no
// join without the primary keys aggregates need. The planner (planner.ts) only reads it.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModelError, UserError } from './errors.ts';
import { isRef, parseTemplate, type Template } from './template.ts';
import { regionScopeOf, type RegionScope } from './region-rule.js';

export type Relationship = 'belongsTo' | 'hasMany' | 'hasOne';
export type MeasureType = 'count' | 'countDistinct' | 'sum' | 'avg' | 'min' | 'max' | 'number' | 'string' | 'time' | 'boolean';
export type DimensionType = 'string' | 'number' | 'boolean' | 'time';

interface MemberCommon {
  cube: string;
  name: string;
  /** `cube.member` */
  path: string;
  title?: string;
  description?: string;
  meta?: unknown;
  /** Explicit `public` (or legacy `shown`/`visible`); undefined = the default for its kind. */
  public?: boolean;
}

export interface MeasureDef extends MemberCommon {
  kind: 'measure';
  type: MeasureType;
  sql?: Template;
  filters: Template[];
  drillMembers: string[];
  format?: string;
  currency?: string;
}

export interface CaseDef {
  when: { sql: Template; label: string | { sql: Template } }[];
  else?: string | { sql: Template };
}

export interface DimensionDef extends MemberCommon {
  kind: 'dimension';
  type: DimensionType;
  sql?: Template;
  case?: CaseDef;
  primaryKey: boolean;
  format?: string;
  currency?: string;
}

export interface SegmentDef extends MemberCommon {
  kind: 'segment';
  sql: Template;
}

export type CubeMember = MeasureDef | DimensionDef | SegmentDef;
export type MemberKind = CubeMember['kind'];

export interface JoinDef {
  from: string;
  to: string;
  relationship: Relationship;
  sql: Template;
}

export interface CubeDef {
  kind: 'cube';
  name: string;
  fileName: string;
  title?: string;
  description?: string;
  public?: boolean;
  meta?: unknown;
  sqlTable?: Template;
  sql?: Template;
  joins: JoinDef[];
  measures: Map<string, MeasureDef>;
  dimensions: Map<string, DimensionDef>;
  segments: Map<string, SegmentDef>;
  primaryKeys: string[];
  regionScope: RegionScope | undefined;
}

/** A view member: an alias of a cube member reached through a join path. */
export interface ViewMemberDef {
  kind: MemberKind;
  view: string;
  name: string;
  path: string;
  target: CubeMember;
  /** Cube names from the view's root to the member's cube (Cube's join hint). */
  joinPath: string[];
  title?: string;
  description?: string;
  format?: string;
  meta?: unknown;
  /** Measures only: drill members renamed into the view, those the view includes. */
  drillMembers?: string[];
}

export interface ViewDef {
  kind: 'view';
  name: string;
  fileName: string;
  title?: string;
  description?: string;
  public?: boolean;
  meta?: unknown;
  measures: Map<string, ViewMemberDef>;
  dimensions: Map<string, ViewMemberDef>;
  segments: Map<string, ViewMemberDef>;
  regionScope: RegionScope | undefined;
}

export type Owner = CubeDef | ViewDef;

export interface SemanticModel {
  dir: string;
  cubes: Map<string, CubeDef>;
  views: Map<string, ViewDef>;
  /** Owners in file order (cubes, then views) — /meta lists them this way. */
  order: string[];
  /** Directed join edges: from cube → (to cube → join). */
  edges: Map<string, Map<string, JoinDef>>;
}

/** What a member path of a query resolves to. */
export interface ResolvedMember {
  owner: Owner;
  /** The member as queried (a view member or a cube member). */
  kind: MemberKind;
  path: string;
  /** The cube member that defines its SQL. */
  target: CubeMember;
  /** Join hint: a cube name or a view's join path. */
  hint: string | string[];
  viewMember?: ViewMemberDef;
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface LoadModelOptions {
  /** Only for tests: read these files instead of walking the directory. */
  files?: { fileName: string; content: string }[];
}

export function loadModel(dir: string, options: LoadModelOptions = {}): SemanticModel {
  const files = options.files ?? readModelFiles(dir);
  const problems: string[] = [];
  const rawCubes: { raw: Record<string, unknown>; fileName: string }[] = [];
  const rawViews: { raw: Record<string, unknown>; fileName: string }[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parseYaml(file.content);
    } catch (e) {
      problems.push(`${file.fileName}: YAML syntax error: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (doc == null) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`${file.fileName}: expected a mapping with 'cubes:' and/or 'views:'`);
      continue;
    }
    for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
      if (key !== 'cubes' && key !== 'views') {
        problems.push(`${file.fileName}: unexpected top-level key '${key}' (only 'cubes' and 'views' are allowed)`);
        continue;
      }
      if (value == null) continue;
      if (!Array.isArray(value)) {
        problems.push(`${file.fileName}: '${key}' must be a list`);
        continue;
      }
      for (const item of value) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          problems.push(`${file.fileName}: every entry of '${key}' must be a mapping`);
          continue;
        }
        (key === 'cubes' ? rawCubes : rawViews).push({ raw: item as Record<string, unknown>, fileName: file.fileName });
      }
    }
  }

  const model: SemanticModel = { dir, cubes: new Map(), views: new Map(), order: [], edges: new Map() };
  for (const { raw, fileName } of rawCubes) {
    const cube = compileCube(raw, fileName, problems);
    if (!cube) continue;
    if (model.cubes.has(cube.name)) {
      problems.push(`${fileName}: duplicate cube name '${cube.name}'`);
      continue;
    }
    model.cubes.set(cube.name, cube);
    model.order.push(cube.name);
  }
  for (const cube of model.cubes.values()) validateCube(model, cube, problems);
  buildJoinGraph(model, problems);
  checkCycles(model, problems);
  for (const { raw, fileName } of rawViews) {
    const view = compileView(model, raw, fileName, problems);
    if (!view) continue;
    if (model.cubes.has(view.name) || model.views.has(view.name)) {
      problems.push(`${fileName}: duplicate cube or view name '${view.name}'`);
      continue;
    }
    model.views.set(view.name, view);
    model.order.push(view.name);
  }
  for (const view of model.views.values()) validateViewScope(model, view, problems);
  for (const cube of model.cubes.values()) validateScopeClosure(model, cube, problems);
  if (problems.length) throw new ModelError(problems);
  return model;
}

function readModelFiles(dir: string): { fileName: string; content: string }[] {
  if (!fs.existsSync(dir)) throw new ModelError([`model directory ${dir} does not exist`]);
  const out: { fileName: string; content: string }[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) out.push({ fileName: path.relative(dir, full), content: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Key normalization (snake_case and camelCase both accepted, as in Cube's YAML compiler)

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function camelKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[camel(k)] = v;
  return out;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Strings outside `sql` are Python f-strings in Cube's YAML: `{` must be written `{{`. */
function plainText(value: unknown, where: string, problems: string[]): string | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'string') {
    problems.push(`${where} must be a string`);
    return undefined;
  }
  if (/(^|[^{])\{(?!\{)|(^|[^}])\}(?!\})/.test(value.replace(/\{\{|\}\}/g, ''))) {
    problems.push(`${where} contains '{' or '}': Cube reads YAML strings as f-strings, write '{{' and '}}'`);
  }
  return value.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
}

function checkMeta(value: unknown, where: string, problems: string[]): unknown {
  if (value == null) return value;
  const walk = (v: unknown, p: string): unknown => {
    if (typeof v === 'string') return plainText(v, p, problems);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${p}[${i}]`));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, `${p}.${k}`);
      return out;
    }
    return v;
  };
  return walk(value, `${where} meta`);
}

function template(value: unknown, where: string, problems: string[]): Template | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.push(`${where}: sql must be a string`);
    return undefined;
  }
  try {
    return parseTemplate(String(value));
  } catch (e) {
    problems.push(`${where}: ${(e as Error).message}`);
    return undefined;
  }
}

function bool(value: unknown, where: string, problems: string[]): boolean | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'boolean') {
    problems.push(`${where} must be true or false`);
    return undefined;
  }
  return value;
}

function visibility(m: Record<string, unknown>, where: string, problems: string[]): boolean | undefined {
  return bool(m.public ?? m.shown ?? m.visible, `${where} public`, problems);
}

const RELATIONSHIPS: Record<string, Relationship> = {
  belongsTo: 'belongsTo',
  belongs_to: 'belongsTo',
  many_to_one: 'belongsTo',
  manyToOne: 'belongsTo',
  hasMany: 'hasMany',
  has_many: 'hasMany',
  one_to_many: 'hasMany',
  oneToMany: 'hasMany',
  hasOne: 'hasOne',
  has_one: 'hasOne',
  one_to_one: 'hasOne',
  oneToOne: 'hasOne'
};

const MEASURE_TYPES: Record<string, MeasureType> = {
  count: 'count',
  count_distinct: 'countDistinct',
  countDistinct: 'countDistinct',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
  number: 'number',
  string: 'string',
  time: 'time',
  boolean: 'boolean'
};

const DIMENSION_TYPES = new Set(['string', 'number', 'boolean', 'time']);

const UNSUPPORTED_CUBE_KEYS = [
  'extends',
  'preAggregations',
  'refreshKey',
  'dataSource',
  'sqlAlias',
  'accessPolicy',
  'hierarchies',
  'folders',
  'rewriteQueries'
];

function listOfMappings(value: unknown, where: string, problems: string[]): Record<string, unknown>[] {
  if (value == null) return [];
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list`);
    return [];
  }
  return value
    .filter((v, i) => {
      const ok = v && typeof v === 'object' && !Array.isArray(v);
      if (!ok) problems.push(`${where}[${i}] must be a mapping`);
      return ok;
    })
    .map((v) => camelKeys(v as Record<string, unknown>));
}

function compileCube(rawIn: Record<string, unknown>, fileName: string, problems: string[]): CubeDef | null {
  const raw = camelKeys(rawIn);
  const name = raw.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    problems.push(`${fileName}: cube without a valid name (${JSON.stringify(name)})`);
    return null;
  }
  const at = `${fileName}: cube '${name}'`;
  for (const k of UNSUPPORTED_CUBE_KEYS) {
    if (raw[k] != null && k !== 'preAggregations') problems.push(`${at}: '${k}' is not supported by the embedded engine`);
  }
  if (Array.isArray(raw.preAggregations) && raw.preAggregations.length) {
    problems.push(`${at}: pre_aggregations are not supported (rollups are database objects exposed as cubes)`);
  }
  const sqlTable = template(raw.sqlTable, `${at} sql_table`, problems);
  const sql = template(raw.sql, `${at} sql`, problems);
  if (!!sqlTable === !!sql) problems.push(`${at}: exactly one of 'sql' and 'sql_table' is required`);
  const regionScope = safeScope(raw.meta, at, problems);
  const cube: CubeDef = {
    kind: 'cube',
    name,
    fileName,
    title: plainText(raw.title, `${at} title`, problems),
    description: plainText(raw.description, `${at} description`, problems),
    public: visibility(raw, at, problems),
    meta: checkMeta(raw.meta, at, problems),
    sqlTable,
    sql,
    joins: [],
    measures: new Map(),
    dimensions: new Map(),
    segments: new Map(),
    primaryKeys: [],
    regionScope
  };
  const seen = new Set<string>();
  const memberName = (m: Record<string, unknown>, kind: string): string | null => {
    const n = m.name;
    if (typeof n !== 'string' || !NAME_RE.test(n)) {
      problems.push(`${at}: ${kind} without a valid name (${JSON.stringify(n)})`);
      return null;
    }
    if (seen.has(n)) {
      problems.push(`${at}: duplicate member name '${n}'`);
      return null;
    }
    seen.add(n);
    return n;
  };
  for (const m of listOfMappings(raw.dimensions, `${at} dimensions`, problems)) {
    const n = memberName(m, 'dimension');
    if (!n) continue;
    const where = `${at} dimension '${n}'`;
    const type = typeof m.type === 'string' ? m.type : 'string';
    if (!DIMENSION_TYPES.has(type)) problems.push(`${where}: type '${String(m.type)}' is not supported (string, number, boolean, time)`);
    if (m.subQuery) problems.push(`${where}: sub_query dimensions are not supported`);
    const dim: DimensionDef = {
      kind: 'dimension',
      cube: name,
      name: n,
      path: `${name}.${n}`,
      type: (DIMENSION_TYPES.has(type) ? type : 'string') as DimensionType,
      sql: template(m.sql, where, problems),
      primaryKey: bool(m.primaryKey, `${where} primary_key`, problems) ?? false,
      public: visibility(m, where, problems),
      title: plainText(m.title, `${where} title`, problems),
      description: plainText(m.description, `${where} description`, problems),
      meta: checkMeta(m.meta, where, problems),
      format: typeof m.format === 'string' ? m.format : undefined,
      currency: typeof m.currency === 'string' ? m.currency : undefined
    };
    if (m.case != null) dim.case = compileCase(m.case, where, problems);
    if (!dim.sql && !dim.case) problems.push(`${where}: 'sql' or 'case' is required`);
    cube.dimensions.set(n, dim);
    if (dim.primaryKey) cube.primaryKeys.push(n);
  }
  for (const m of listOfMappings(raw.measures, `${at} measures`, problems)) {
    const n = memberName(m, 'measure');
    if (!n) continue;
    const where = `${at} measure '${n}'`;
    const type = MEASURE_TYPES[String(m.type)];
    if (!type)
      problems.push(
        `${where}: type '${String(m.type)}' is not supported (count, count_distinct, sum, avg, min, max, number, string, time, boolean)`
      );
    for (const k of ['rollingWindow', 'multiStage', 'timeShift', 'groupBy', 'reduceBy', 'addGroupBy', 'cumulative']) {
      if (m[k] != null) problems.push(`${where}: '${k}' is not supported by the embedded engine`);
    }
    const filters = listOfMappings(m.filters, `${where} filters`, problems)
      .map((f, i) => template(f.sql, `${where} filters[${i}]`, problems))
      .filter((t): t is Template => !!t);
    let drill: string[] = [];
    if (m.drillMembers != null) {
      if (!Array.isArray(m.drillMembers) || m.drillMembers.some((d) => typeof d !== 'string')) {
        problems.push(`${where}: drill_members must be a list of member names`);
      } else drill = m.drillMembers as string[];
    }
    const measure: MeasureDef = {
      kind: 'measure',
      cube: name,
      name: n,
      path: `${name}.${n}`,
      type: type ?? 'number',
      sql: template(m.sql, where, problems),
      filters,
      drillMembers: drill,
      public: visibility(m, where, problems),
      title: plainText(m.title, `${where} title`, problems),
      description: plainText(m.description, `${where} description`, problems),
      meta: checkMeta(m.meta, where, problems),
      format: typeof m.format === 'string' ? m.format : undefined,
      currency: typeof m.currency === 'string' ? m.currency : undefined
    };
    if (!measure.sql && measure.type !== 'count') problems.push(`${where}: 'sql' is required for type ${String(m.type)}`);
    cube.measures.set(n, measure);
  }
  for (const m of listOfMappings(raw.segments, `${at} segments`, problems)) {
    const n = memberName(m, 'segment');
    if (!n) continue;
    const where = `${at} segment '${n}'`;
    const sqlT = template(m.sql, where, problems);
    if (!sqlT) {
      problems.push(`${where}: 'sql' is required`);
      continue;
    }
    cube.segments.set(n, {
      kind: 'segment',
      cube: name,
      name: n,
      path: `${name}.${n}`,
      sql: sqlT,
      public: visibility(m, where, problems),
      title: plainText(m.title, `${where} title`, problems),
      description: plainText(m.description, `${where} description`, problems),
      meta: checkMeta(m.meta, where, problems)
    });
  }
  const joinTargets = new Set<string>();
  for (const j of listOfMappings(raw.joins, `${at} joins`, problems)) {
    const target = j.name;
    const where = `${at} join '${String(target)}'`;
    if (typeof target !== 'string' || !NAME_RE.test(target)) {
      problems.push(`${at}: join without a valid target cube name`);
      continue;
    }
    if (joinTargets.has(target)) {
      problems.push(`${at}: declares more than one join to '${target}'`);
      continue;
    }
    joinTargets.add(target);
    const relationship = RELATIONSHIPS[String(j.relationship)];
    if (!relationship)
      problems.push(`${where}: relationship '${String(j.relationship)}' is not one of many_to_one, one_to_many, one_to_one`);
    const jsql = template(j.sql, where, problems);
    if (!jsql) {
      problems.push(`${where}: 'sql' is required`);
      continue;
    }
    cube.joins.push({ from: name, to: target, relationship: relationship ?? 'belongsTo', sql: jsql });
  }
  return cube;
}

function safeScope(meta: unknown, at: string, problems: string[]): RegionScope | undefined {
  try {
    return regionScopeOf(meta);
  } catch (e) {
    problems.push(`${at}: ${(e as Error).message}`);
    return undefined;
  }
}

function compileCase(value: unknown, where: string, problems: string[]): CaseDef | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where}: case must be a mapping with 'when' (and optional 'else')`);
    return undefined;
  }
  const c = value as Record<string, unknown>;
  const label = (l: unknown, w: string): string | { sql: Template } | undefined => {
    if (typeof l === 'string' || typeof l === 'number') return String(l);
    if (l && typeof l === 'object' && 'sql' in l) {
      const t = template((l as { sql: unknown }).sql, w, problems);
      return t ? { sql: t } : undefined;
    }
    problems.push(`${w}: label must be a string or {sql}`);
    return undefined;
  };
  const when = listOfMappings(c.when, `${where} case.when`, problems)
    .map((w, i) => {
      const sql = template(w.sql, `${where} case.when[${i}]`, problems);
      const l = label(w.label, `${where} case.when[${i}]`);
      return sql && l !== undefined ? { sql, label: l } : null;
    })
    .filter((x): x is { sql: Template; label: string | { sql: Template } } => !!x);
  if (!when.length) problems.push(`${where}: case.when must not be empty`);
  const elseLabel =
    c.else && typeof c.else === 'object' ? label((c.else as Record<string, unknown>).label, `${where} case.else`) : undefined;
  return { when, else: elseLabel };
}

// ---------------------------------------------------------------------------------------------
// References

export type ResolvedRef = { kind: 'cube'; cube: CubeDef } | { kind: 'member'; cube: CubeDef; member: CubeMember };

function findMember(cube: CubeDef, name: string): CubeMember | undefined {
  return cube.dimensions.get(name) ?? cube.measures.get(name) ?? cube.segments.get(name);
}

/** Resolve a `{…}` reference written inside cube `cubeName`'s SQL. */
export function resolveRef(model: SemanticModel, cubeName: string, ref: string[]): ResolvedRef {
  const self = model.cubes.get(cubeName);
  if (!self) throw new Error(`cube '${cubeName}' not found`);
  let cube: CubeDef | undefined;
  let rest: string[];
  if (ref[0] === 'CUBE') {
    cube = self;
    rest = ref.slice(1);
  } else if (ref.length === 1 && findMember(self, ref[0])) {
    return { kind: 'member', cube: self, member: findMember(self, ref[0])! };
  } else if (model.cubes.has(ref[0])) {
    cube = model.cubes.get(ref[0])!;
    rest = ref.slice(1);
  } else if (model.views.has(ref[0])) {
    throw new Error(`{${ref.join('.')}} references view '${ref[0]}'; cube SQL may reference cubes only`);
  } else {
    throw new Error(`{${ref.join('.')}}: '${ref[0]}' is neither a member of '${cubeName}' nor a cube`);
  }
  if (rest.length === 0) return { kind: 'cube', cube };
  if (rest.length > 1) throw new Error(`{${ref.join('.')}}: multi-step references are not supported`);
  const member = findMember(cube, rest[0]);
  if (!member) throw new Error(`{${ref.join('.')}}: '${rest[0]}' is not a member of cube '${cube.name}'`);
  return { kind: 'member', cube, member };
}

function templatesOf(cube: CubeDef): { where: string; t: Template; member?: CubeMember; role: string }[] {
  const out: { where: string; t: Template; member?: CubeMember; role: string }[] = [];
  if (cube.sqlTable) out.push({ where: `cube '${cube.name}' sql_table`, t: cube.sqlTable, role: 'table' });
  if (cube.sql) out.push({ where: `cube '${cube.name}' sql`, t: cube.sql, role: 'table' });
  for (const d of cube.dimensions.values()) {
    if (d.sql) out.push({ where: `dimension '${d.path}'`, t: d.sql, member: d, role: 'dimension' });
    for (const w of d.case?.when ?? []) {
      out.push({ where: `dimension '${d.path}' case`, t: w.sql, member: d, role: 'dimension' });
      if (typeof w.label !== 'string')
        out.push({ where: `dimension '${d.path}' case label`, t: w.label.sql, member: d, role: 'dimension' });
    }
    if (d.case?.else && typeof d.case.else !== 'string')
      out.push({ where: `dimension '${d.path}' case else`, t: d.case.else.sql, member: d, role: 'dimension' });
  }
  for (const m of cube.measures.values()) {
    if (m.sql)
      out.push({
        where: `measure '${m.path}'`,
        t: m.sql,
        member: m,
        role: m.type === 'number' || m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? 'calculated' : 'measure'
      });
    for (const f of m.filters) out.push({ where: `measure '${m.path}' filter`, t: f, member: m, role: 'filter' });
  }
  for (const s of cube.segments.values()) out.push({ where: `segment '${s.path}'`, t: s.sql, member: s, role: 'segment' });
  for (const j of cube.joins) out.push({ where: `join ${cube.name} → ${j.to}`, t: j.sql, role: 'join' });
  return out;
}

function validateCube(model: SemanticModel, cube: CubeDef, problems: string[]): void {
  const at = `${cube.fileName}: cube '${cube.name}'`;
  for (const { where, t, role } of templatesOf(cube)) {
    for (const part of t.parts) {
      if (!isRef(part)) continue;
      let r: ResolvedRef;
      try {
        r = resolveRef(model, cube.name, part.ref);
      } catch (e) {
        problems.push(`${at} ${where}: unknown reference ${(e as Error).message}`);
        continue;
      }
      if (r.kind !== 'member') {
        if (role === 'table' && r.cube.name !== cube.name)
          problems.push(`${at} ${where}: {${part.raw}} — a cube's own SQL may not reference other cubes`);
        continue;
      }
      const refKind = r.member.kind;
      if (role === 'table') problems.push(`${at} ${where}: {${part.raw}} — a cube's own SQL may not reference members`);
      else if (refKind === 'measure' && role !== 'calculated') {
        problems.push(
          `${at} ${where}: {${part.raw}} is a measure; only measures of type number/string/time/boolean may reference measures`
        );
      } else if (refKind === 'segment' && role !== 'segment' && role !== 'filter') {
        problems.push(`${at} ${where}: {${part.raw}} is a segment and cannot be used here`);
      }
      if (role === 'join') {
        const j = cube.joins.find((x) => x.sql === t)!;
        if (r.cube.name !== cube.name && r.cube.name !== j.to)
          problems.push(`${at} ${where}: join SQL may only reference '${cube.name}' and '${j.to}'`);
      }
    }
  }
  for (const m of cube.measures.values()) {
    const dm: string[] = [];
    for (const d of m.drillMembers) {
      try {
        const r = resolveRef(model, cube.name, d.split('.'));
        if (r.kind !== 'member' || r.member.kind === 'segment') throw new Error(`'${d}' is not a dimension or measure`);
        dm.push(r.member.path);
      } catch (e) {
        problems.push(`${at} measure '${m.name}' drill_members: ${(e as Error).message}`);
      }
    }
    m.drillMembers = dm;
  }
  if (cube.regionScope && cube.regionScope.mode === 'path') {
    const d = cube.dimensions.get(cube.regionScope.dimension);
    if (!d) problems.push(`${at}: meta.region_scope.dimension '${cube.regionScope.dimension}' is not a dimension of the cube`);
    else if (d.type !== 'string') problems.push(`${at}: region scope dimension '${d.name}' must be of type string`);
  }
}

/** Members each member's SQL depends on (for cycle detection). */
function dependencies(model: SemanticModel, member: CubeMember): CubeMember[] {
  const ts: Template[] = [];
  if (member.kind === 'dimension') {
    if (member.sql) ts.push(member.sql);
    for (const w of member.case?.when ?? []) {
      ts.push(w.sql);
      if (typeof w.label !== 'string') ts.push(w.label.sql);
    }
    if (member.case?.else && typeof member.case.else !== 'string') ts.push(member.case.else.sql);
  } else if (member.kind === 'measure') {
    if (member.sql) ts.push(member.sql);
    ts.push(...member.filters);
  } else ts.push(member.sql);
  const out: CubeMember[] = [];
  for (const t of ts) {
    for (const p of t.parts) {
      if (!isRef(p)) continue;
      try {
        const r = resolveRef(model, member.cube, p.ref);
        if (r.kind === 'member') out.push(r.member);
      } catch {
        // reported by validateCube
      }
    }
  }
  return out;
}

function checkCycles(model: SemanticModel, problems: string[]): void {
  const state = new Map<string, 1 | 2>();
  const visit = (m: CubeMember, stack: string[]): void => {
    const s = state.get(m.path);
    if (s === 2) return;
    if (s === 1) {
      problems.push(`cyclic reference: ${[...stack.slice(stack.indexOf(m.path)), m.path].join(' → ')}`);
      return;
    }
    state.set(m.path, 1);
    for (const d of dependencies(model, m)) visit(d, [...stack, m.path]);
    state.set(m.path, 2);
  };
  for (const cube of model.cubes.values()) {
    for (const m of [...cube.dimensions.values(), ...cube.measures.values(), ...cube.segments.values()]) visit(m, []);
  }
}

function buildJoinGraph(model: SemanticModel, problems: string[]): void {
  // Cube's rule: a join needs the primary key of each side that has aggregates which
  // could be multiplied by it.
  const needsKey = (c: CubeDef) => [...c.measures.values()].some((m) => ['sum', 'avg', 'count', 'number'].includes(m.type));
  for (const cube of model.cubes.values()) {
    const out = new Map<string, JoinDef>();
    for (const j of cube.joins) {
      const target = model.cubes.get(j.to);
      const at = `${cube.fileName}: cube '${cube.name}' join '${j.to}'`;
      if (!target) {
        problems.push(`${at}: cube '${j.to}' doesn't exist`);
        continue;
      }
      if (!cube.primaryKeys.length && needsKey(cube)) {
        problems.push(`${at}: primary key for '${cube.name}' is required when join is defined in order to make aggregates work properly`);
        continue;
      }
      if (!target.primaryKeys.length && needsKey(target)) {
        problems.push(`${at}: primary key for '${j.to}' is required when join is defined in order to make aggregates work properly`);
        continue;
      }
      out.set(j.to, j);
    }
    model.edges.set(cube.name, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Views

function compileView(model: SemanticModel, rawIn: Record<string, unknown>, fileName: string, problems: string[]): ViewDef | null {
  const raw = camelKeys(rawIn);
  const name = raw.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    problems.push(`${fileName}: view without a valid name (${JSON.stringify(name)})`);
    return null;
  }
  const at = `${fileName}: view '${name}'`;
  for (const k of ['measures', 'dimensions', 'segments', 'sql', 'sqlTable', 'joins', 'extends', 'folders', 'accessPolicy']) {
    if (raw[k] != null && !(Array.isArray(raw[k]) && (raw[k] as unknown[]).length === 0)) {
      problems.push(`${at}: '${k}' is not supported in views by the embedded engine (use cubes: [{join_path, includes}])`);
    }
  }
  const view: ViewDef = {
    kind: 'view',
    name,
    fileName,
    title: plainText(raw.title, `${at} title`, problems),
    description: plainText(raw.description, `${at} description`, problems),
    public: visibility(raw, at, problems),
    meta: checkMeta(raw.meta, at, problems),
    measures: new Map(),
    dimensions: new Map(),
    segments: new Map(),
    regionScope: safeScope(raw.meta, at, problems)
  };
  const includesAll: ViewMemberDef[] = [];
  for (const [i, inc] of listOfMappings(raw.cubes, `${at} cubes`, problems).entries()) {
    const where = `${at} cubes[${i}]`;
    if (typeof inc.joinPath !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(inc.joinPath)) {
      problems.push(`${where}: join_path must be a dotted path of cube names`);
      continue;
    }
    const joinPath = inc.joinPath.split('.');
    let ok = true;
    for (const [k, c] of joinPath.entries()) {
      if (!model.cubes.has(c)) {
        problems.push(`${where}: join_path '${inc.joinPath}': cube '${c}' doesn't exist`);
        ok = false;
        break;
      }
      if (k > 0 && !model.edges.get(joinPath[k - 1])?.has(c)) {
        problems.push(`${where}: join_path '${inc.joinPath}': cube '${joinPath[k - 1]}' has no join to '${c}'`);
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const cube = model.cubes.get(joinPath[joinPath.length - 1])!;
    const alias = typeof inc.alias === 'string' ? inc.alias : cube.name;
    const prefix = bool(inc.prefix, `${where} prefix`, problems) ?? false;
    const fullName = (member: string) => (prefix ? `${alias}_${member}` : member);
    type Include = { member: string; name: string; title?: string; description?: string; format?: string; meta?: unknown };
    let includes: Include[];
    if (inc.includes === '*') {
      includes = [...cube.dimensions.keys(), ...cube.measures.keys(), ...cube.segments.keys()].map((m) => ({
        member: m,
        name: fullName(m)
      }));
    } else if (Array.isArray(inc.includes)) {
      includes = [];
      for (const x of inc.includes) {
        if (typeof x === 'string') includes.push({ member: x, name: fullName(x) });
        else if (x && typeof x === 'object' && typeof (x as Record<string, unknown>).name === 'string') {
          const o = camelKeys(x as Record<string, unknown>);
          const memberName = o.name as string;
          includes.push({
            member: memberName,
            name: fullName(typeof o.alias === 'string' ? o.alias : memberName),
            title: plainText(o.title, `${where} include '${memberName}' title`, problems),
            description: plainText(o.description, `${where} include '${memberName}' description`, problems),
            format: typeof o.format === 'string' ? o.format : undefined,
            meta: checkMeta(o.meta, `${where} include '${memberName}'`, problems)
          });
        } else problems.push(`${where}: includes entries must be member names or {name, alias?, title?}`);
      }
    } else {
      problems.push(`${where}: includes must be '*' or a list`);
      continue;
    }
    const excludes = new Set(Array.isArray(inc.excludes) ? (inc.excludes as unknown[]).map(String) : []);
    for (const x of excludes)
      if (!findMember(cube, x)) problems.push(`${where}: excluded member '${x}' is not defined in cube '${cube.name}'`);
    for (const include of includes) {
      if (excludes.has(include.member)) continue;
      const target = findMember(cube, include.member);
      if (!target) {
        problems.push(`${where}: member '${include.member}' is included in '${name}' but not defined in cube '${cube.name}'`);
        continue;
      }
      if (!NAME_RE.test(include.name)) {
        problems.push(`${where}: invalid member name '${include.name}'`);
        continue;
      }
      const vm: ViewMemberDef = {
        kind: target.kind,
        view: name,
        name: include.name,
        path: `${name}.${include.name}`,
        target,
        joinPath,
        title: include.title ?? target.title,
        description: include.description ?? target.description,
        format: include.format ?? (target.kind === 'segment' ? undefined : target.format),
        meta: include.meta ?? target.meta
      };
      const map = target.kind === 'measure' ? view.measures : target.kind === 'dimension' ? view.dimensions : view.segments;
      if (view.measures.has(vm.name) || view.dimensions.has(vm.name) || view.segments.has(vm.name)) {
        problems.push(
          `${where}: included member '${vm.name}' conflicts with an existing member of '${name}'; exclude it or give it an alias`
        );
        continue;
      }
      map.set(vm.name, vm);
      includesAll.push(vm);
    }
  }
  for (const vm of view.measures.values()) {
    const m = vm.target as MeasureDef;
    vm.drillMembers = m.drillMembers.flatMap((d) => {
      const found = includesAll.find((x) => x.target.path === d);
      return found ? [found.path] : [];
    });
  }
  return view;
}

/**
 * A scoped cube (region_scope path or none) may only pull in cubes that are scoped too, so a
 * caller below city level can never reach unscoped data through a join.
 */
function validateScopeClosure(model: SemanticModel, cube: CubeDef, problems: string[]): void {
  if (!cube.regionScope) return;
  const reached = new Set<string>();
  for (const { t, role } of templatesOf(cube)) {
    if (role === 'join') continue;
    for (const p of t.parts) {
      if (!isRef(p)) continue;
      try {
        const r = resolveRef(model, cube.name, p.ref);
        if (r.cube.name !== cube.name) reached.add(r.cube.name);
      } catch {
        // reported elsewhere
      }
    }
  }
  for (const name of reached) {
    if (!model.cubes.get(name)?.regionScope) {
      problems.push(
        `${cube.fileName}: cube '${cube.name}' declares a region scope but its SQL reaches cube '${name}', which declares none`
      );
    }
  }
}

function validateViewScope(model: SemanticModel, view: ViewDef, problems: string[]): void {
  const at = `${view.fileName}: view '${view.name}'`;
  if (view.regionScope) {
    const onPaths = new Set([...view.measures.values(), ...view.dimensions.values(), ...view.segments.values()].flatMap((m) => m.joinPath));
    for (const c of onPaths) {
      if (!model.cubes.get(c)!.regionScope)
        problems.push(`${at}: declares a region scope but its join paths reach cube '${c}', which declares none`);
    }
  }
  const cubes = new Set([...view.measures.values(), ...view.dimensions.values(), ...view.segments.values()].map((m) => m.target.cube));
  const scoped = [...cubes].filter((c) => model.cubes.get(c)!.regionScope?.mode === 'path');
  const scope = view.regionScope;
  if (!scope) return;
  if (scope.mode === 'none') {
    if (scoped.length) problems.push(`${at}: declares region_scope none but exposes region-scoped cube(s) ${scoped.join(', ')}`);
    return;
  }
  const vm = view.dimensions.get(scope.dimension);
  if (!vm) {
    problems.push(`${at}: meta.region_scope.dimension '${scope.dimension}' is not a dimension of the view`);
    return;
  }
  const cube = model.cubes.get(vm.target.cube)!;
  if (cube.regionScope?.mode !== 'path' || cube.regionScope.dimension !== vm.target.name) {
    problems.push(
      `${at}: region scope dimension '${scope.dimension}' must be the region_scope dimension of its cube ('${vm.target.path}' is not)`
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Lookups for queries

export function ownerOf(model: SemanticModel, name: string): Owner | undefined {
  return model.cubes.get(name) ?? model.views.get(name);
}

/** Cube's wording for unknown members (BaseQuery/CubeEvaluator). */
export function resolveMemberPath(model: SemanticModel, memberPath: string): ResolvedMember {
  const [ownerName, memberName, ...rest] = memberPath.split('.');
  const owner = ownerOf(model, ownerName);
  if (!owner || rest.length) {
    throw new UserError(`Cube '${ownerName}' not found for path '${memberPath}'`);
  }
  if (owner.kind === 'cube') {
    const m = findMember(owner, memberName);
    if (!m) throw new UserError(`'${memberName}' not found for path '${memberPath}'`);
    return { owner, kind: m.kind, path: memberPath, target: m, hint: owner.name };
  }
  const vm = owner.dimensions.get(memberName) ?? owner.measures.get(memberName) ?? owner.segments.get(memberName);
  if (!vm) throw new UserError(`'${memberName}' not found for path '${memberPath}'`);
  return {
    owner,
    kind: vm.kind,
    path: memberPath,
    target: vm.target,
    hint: vm.joinPath.length > 1 ? vm.joinPath : vm.joinPath[0],
    viewMember: vm
  };
}

/** Cube's default visibility: members are public unless said otherwise; primary keys are not. */
export function isMemberVisible(owner: Owner, member: CubeMember | ViewMemberDef): boolean {
  if (owner.public === false) return false;
  if ('view' in member) return true;
  if (member.public != null) return member.public;
  return member.kind === 'dimension' ? !member.primaryKey : true;
}
