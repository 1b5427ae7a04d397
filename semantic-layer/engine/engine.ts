// The embedded Cube-compatible server core: `handle(Request)` answers /cubejs-api/v1/load,
// /sql, /meta and /dry-run as Cube 1.7 does, and `load`/`sql`/`meta` offer the same results
// to server code. Flow per query: normalize → members checked → region rule (the queryRewrite
// shared with cube.js) → normalize again → plan (region rule enforced again per joined cube)
// → run on a pooled connection with the session in UTC, as Cube's Postgres driver runs it.
// Errors: 400 {type: "UserError", error}, 403 {error}, 500 {error} — never a stack.
import pg from 'pg';
import { signToken, tokenFromHeaders, verifyToken, type SecurityContext } from './auth.ts';
import { UserError } from './errors.ts';
import { errorResponse as coreErrorResponse, HttpError } from '../../core/errors.ts';
import {
  buildMetaConfig,
  prepareAnnotation,
  visibleMembers,
  visibleMeta,
  type Annotation,
  type MetaCube,
  type MetaMember
} from './meta.ts';
import { loadModel, resolveMemberPath, type SemanticModel } from './model.ts';
import { planQuery, type Plan } from './planner.ts';
import { normalizeQuery, toRestQuery, isLeaf, type NormalizedQuery, type QueryFilter } from './query.ts';
import { applyRegionRule, callerScope, type CallerScope, type RegionScopes } from './region-rule.js';
import { checkPersonalQuery, personalKindOf, type PersonalMembers } from './personal-rule.js';
import { maskIdNumber, maskName, maskPhone } from '../../core/domain/masking.ts';

export type { SecurityContext };

export interface SemanticEngineOptions {
  /** Directory of the YAML model (cubes/ and views/ below it). */
  modelDir: string;
  pool: pg.Pool;
  /** HS256 secret for API tokens; defaults to CUBEJS_API_SECRET. */
  apiSecret?: string;
  /** URL prefix of the API; default `/cubejs-api`. */
  basePath?: string;
  /** Per-statement timeout; default 30 s. */
  queryTimeoutMs?: number;
  /** Clock for relative date ranges (tests). */
  now?: () => Date;
  /** Where 500s are reported (message only); default console.error. */
  log?: (message: string) => void;
  /**
   * Called (and awaited) before a result with unmasked personal values is returned — i.e. for a
   * security context that may read them (personal-rule.js) — so the caller can audit-log it. If
   * it throws, the data is not returned. A `load()` call can pass its own hook instead.
   */
  onPersonalData?: PersonalDataHook;
}

export interface PersonalDataEvent {
  securityContext: SecurityContext;
  /** The personal members in the result (`cube.member` / `view.member`). */
  members: string[];
  rowCount: number;
  query: NormalizedQuery;
  /** The result's data, as returned. */
  data: ResultObject['data'];
}
export type PersonalDataHook = (event: PersonalDataEvent) => void | Promise<void>;

export interface LoadOptions {
  queryType?: 'multi';
  /** Replaces the engine's onPersonalData hook for this call (e.g. server code that audit-logs itself). */
  onPersonalData?: PersonalDataHook;
}

export interface ResultObject {
  query: NormalizedQuery;
  data: Record<string, unknown>[] | { members: string[]; dataset: unknown[][] } | { members: string[]; columns: unknown[][] };
  lastRefreshTime: string;
  annotation: Annotation;
  dataSource: 'default';
  dbType: 'postgres';
  external: false;
  slowQuery: false;
  total?: number | null;
}

export interface MultiResponse {
  queryType: 'regularQuery' | 'blendingQuery';
  results: ResultObject[];
  pivotQuery: Record<string, unknown>;
  slowQuery: false;
}

export interface SqlResponse {
  sql: {
    sql: [string, unknown[]];
    timeDimensionAlias?: string;
    timeDimensionField?: string;
    order: Record<string, 'asc' | 'desc'>;
    cacheKeyQueries: unknown[];
    preAggregations: unknown[];
    dataSource: 'default';
    aliasNameToMember: Record<string, string>;
    rollupMatchResults: unknown[];
    external: false;
  };
}

export interface SemanticEngine {
  readonly model: SemanticModel;
  /** Answer a request under `<basePath>/v1/…`. */
  handle(request: Request): Promise<Response>;
  /** What /v1/load answers (single result, or the multi form for `queryType: 'multi'` or a query array). */
  load(query: unknown, securityContext: SecurityContext, options?: LoadOptions): Promise<ResultObject | MultiResponse>;
  /** What /v1/sql answers. */
  sql(query: unknown, securityContext: SecurityContext): Promise<SqlResponse | SqlResponse[]>;
  /** What /v1/meta answers. */
  meta(): { cubes: MetaCube[] };
  /** Personal members of the model (`cube.member` / `view.member` → kind), from their meta. */
  readonly personalMembers: Readonly<PersonalMembers>;
  /** A token the engine accepts (signed with its secret). */
  token(securityContext: SecurityContext, expiresIn?: string | number): Promise<string>;
}

interface Prepared {
  query: NormalizedQuery;
  plan: Plan;
  /** The caller may read personal values (else they are masked). */
  unmasked: boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const MAX_BODY = 1024 * 1024;

export function createSemanticEngine(options: SemanticEngineOptions): SemanticEngine {
  const model = loadModel(options.modelDir);
  const secret = options.apiSecret ?? process.env.CUBEJS_API_SECRET ?? '';
  const basePath = (options.basePath ?? '/cubejs-api').replace(/\/$/, '');
  const timeoutMs = options.queryTimeoutMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((m: string) => console.error(`[semantic] ${m}`));
  const metaConfig = buildMetaConfig(model);
  const publicMeta = visibleMeta(metaConfig);
  const visible = visibleMembers(metaConfig);
  const scopes: RegionScopes = {};
  for (const c of model.cubes.values()) scopes[c.name] = c.regionScope;
  for (const v of model.views.values()) scopes[v.name] = v.regionScope;
  const personal = personalMembersOf(model);

  /** Every member a query names must exist before the region rule looks at it. */
  function checkMembers(q: NormalizedQuery): void {
    const paths = [...(q.measures ?? []), ...q.dimensions, ...(q.segments ?? []), ...q.timeDimensions.map((t) => t.dimension)];
    const walk = (fs: QueryFilter[]) => {
      for (const f of fs) {
        if (isLeaf(f)) paths.push(f.member);
        else walk('or' in f ? f.or : f.and);
      }
    };
    walk(q.filters);
    for (const o of q.order ?? []) if (o.id.split('.').length >= 2) paths.push(o.id.split('.').slice(0, 2).join('.'));
    for (const p of paths) {
      resolveMemberPath(model, p); // an unknown member is a UserError
    }
  }

  function prepare(input: unknown, caller: CallerScope, ctx: SecurityContext): Prepared {
    const first = normalizeQuery(input, { now: now() });
    checkMembers(first);
    // Personal data: no filter or order key on it without the right (403); values masked later.
    const { unmasked } = checkPersonalQuery(toRestQuery(first), ctx, personal);
    const rewritten = applyRegionRule(toRestQuery(first), ctx, scopes);
    const query = normalizeQuery(rewritten, { now: now() });
    if (!unmasked && !query.order) {
      // Cube's default order would sort by the first dimension; never by a personal one.
      const order = defaultOrderAvoidingPersonal(query, personal);
      if (order) query.order = order;
    }
    const plan = planQuery(model, query, { now: now(), caller });
    return { query, plan, unmasked };
  }

  function parseQueryParam(raw: unknown): unknown {
    if (raw === undefined || raw === null || raw === 'undefined' || raw === '') throw new UserError('Query param is required');
    if (typeof raw === 'string') {
      try {
        return JSON.parse(raw);
      } catch (e) {
        throw new UserError(`Unable to decode query param as JSON, error: ${(e as Error).message}`);
      }
    }
    return raw;
  }

  function prepareAll(raw: unknown, ctx: SecurityContext): { queryType: 'regularQuery' | 'blendingQuery'; prepared: Prepared[] } {
    const caller = callerScope(ctx);
    const parsed = parseQueryParam(raw);
    if (Array.isArray(parsed)) {
      if (!parsed.length) throw new UserError('Query param is required');
      if (parsed.length > 20) throw new UserError('At most 20 queries can be blended');
      const prepared = parsed.map((q) => prepare(q, caller, ctx));
      const granularities = [...new Set(prepared.map((p) => p.query.timeDimensions[0]?.granularity).filter(Boolean))];
      if (granularities.length > 1) throw new UserError('Data blending query granularities must match');
      if (granularities.length === 0) throw new UserError('Data blending query without granularity is not supported');
      return { queryType: 'blendingQuery', prepared };
    }
    return { queryType: 'regularQuery', prepared: [prepare(parsed, caller, ctx)] };
  }

  async function run(plan: Plan, withTotal: boolean): Promise<{ rows: Record<string, unknown>[]; total?: number }> {
    // The total (a page's "of N") runs beside the page on a second connection: over a large
    // area both read the same rows, and one after the other they took twice as long.
    const [res, t] = await Promise.all([
      session((client) => client.query({ text: plan.sql, values: plan.params, types: { getTypeParser } })),
      withTotal ? session((client) => client.query({ text: plan.totalSql, values: plan.params })) : undefined
    ]);
    return { rows: res.rows as Record<string, unknown>[], total: t ? Number(t.rows[0].total_count) : undefined };
  }

  async function session<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await options.pool.connect();
    try {
      // Cube's Postgres driver runs every query in a UTC session; timestamps without a zone
      // and dates are read the same way here.
      await client.query(`SET TIME ZONE 'UTC'; SET statement_timeout = ${Math.trunc(timeoutMs)}`);
      return await work(client);
    } finally {
      // Hand the connection back as the pool lent it; one that cannot be reset is discarded.
      try {
        await client.query('RESET TIME ZONE; RESET statement_timeout');
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    }
  }

  function transformRows(plan: Plan, q: NormalizedQuery, rows: Record<string, unknown>[], blending: boolean): ResultObject['data'] {
    const cols = plan.columns;
    if (q.responseFormat === 'compact') {
      return { members: cols.map((c) => c.key), dataset: rows.map((r) => cols.map((c) => transformValue(r[c.alias], c.type))) };
    }
    if (q.responseFormat === 'columnar') {
      return { members: cols.map((c) => c.key), columns: cols.map((c) => rows.map((r) => transformValue(r[c.alias], c.type))) };
    }
    const firstTd = q.timeDimensions[0];
    return rows.map((r) => {
      const out: Record<string, unknown> = {};
      for (const c of cols) {
        const v = transformValue(r[c.alias], c.type);
        out[c.key] = v;
        if (c.kind === 'timeDimension' && !q.dimensions.includes(c.member)) out[c.member] = v;
      }
      if (blending && firstTd?.granularity) out[`time.${firstTd.granularity}`] = out[`${firstTd.dimension}.${firstTd.granularity}`];
      return out;
    });
  }

  async function loadImpl(
    raw: unknown,
    ctx: SecurityContext,
    multi: boolean,
    hook: PersonalDataHook | undefined = options.onPersonalData
  ): Promise<ResultObject | MultiResponse> {
    const { queryType, prepared } = prepareAll(raw, ctx);
    if (queryType !== 'regularQuery' && !multi) {
      throw new UserError(`'${queryType}' query type is not supported by the client.Please update the client.`);
    }
    const results = await Promise.all(
      prepared.map(async ({ query, plan, unmasked }) => {
        const { rows, total } = await run(plan, !!query.total);
        const personalColumns = plan.columns.filter((c) => personal[c.member] !== undefined && c.kind !== 'timeDimension');
        if (!unmasked) {
          for (const c of personalColumns) for (const r of rows) r[c.alias] = maskValue(personal[c.member], r[c.alias]);
        }
        const result: ResultObject = {
          query: { ...query, queryType },
          data: transformRows(plan, query, rows, queryType === 'blendingQuery'),
          lastRefreshTime: new Date().toISOString(),
          annotation: prepareAnnotation(visible, query),
          dataSource: 'default',
          dbType: 'postgres',
          external: false,
          slowQuery: false,
          ...(query.total ? { total: total ?? null } : {})
        };
        if (unmasked && personalColumns.length && rows.length && hook) {
          await hook({
            securityContext: ctx,
            members: [...new Set(personalColumns.map((c) => c.member))],
            rowCount: rows.length,
            query: result.query,
            data: result.data
          });
        }
        return result;
      })
    );
    if (!multi) return results[0];
    return {
      queryType,
      results,
      pivotQuery: pivotQuery(
        queryType,
        prepared.map((p) => p.query)
      ),
      slowQuery: false
    };
  }

  function sqlImpl(raw: unknown, ctx: SecurityContext): SqlResponse | SqlResponse[] {
    const { queryType, prepared } = prepareAll(raw, ctx);
    const out = prepared.map(({ plan }): SqlResponse => ({
      sql: {
        sql: [plan.sql, plan.params],
        ...(plan.timeDimensionAlias ? { timeDimensionAlias: plan.timeDimensionAlias, timeDimensionField: plan.timeDimensionField } : {}),
        order: Object.fromEntries(plan.order.map((o) => [o.id, o.desc ? 'desc' : 'asc'])),
        cacheKeyQueries: [],
        preAggregations: [],
        dataSource: 'default',
        aliasNameToMember: plan.aliasNameToMember,
        rollupMatchResults: [],
        external: false
      }
    }));
    return queryType === 'regularQuery' ? out[0] : out;
  }

  async function authenticate(request: Request): Promise<SecurityContext> {
    const ctx = await verifyToken(tokenFromHeaders(request.headers), secret);
    callerScope(ctx);
    return ctx;
  }

  async function readParams(request: Request, url: URL): Promise<Record<string, unknown>> {
    if (request.method === 'GET' || request.method === 'HEAD') return Object.fromEntries(url.searchParams.entries());
    let text: string;
    try {
      text = await request.text();
    } catch {
      throw new HttpError(413, 'Request body is too large', 'too_large'); // the web server's own body limit
    }
    if (text.length > MAX_BODY) throw new HttpError(413, 'Request body is too large', 'too_large');
    if (!text.trim()) return {};
    try {
      const body = JSON.parse(text);
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('expected an object');
      return body as Record<string, unknown>;
    } catch (e) {
      throw new UserError(`Unable to decode request body as JSON, error: ${(e as Error).message}`);
    }
  }

  async function handle(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      const prefix = `${basePath}/v1/`;
      if (!url.pathname.startsWith(prefix)) return json({ error: 'Not found' }, 404);
      const route = url.pathname.slice(prefix.length).replace(/\/$/, '');
      const methods: Record<string, string[]> = {
        load: ['GET', 'POST'],
        subscribe: ['GET', 'POST'],
        sql: ['GET', 'POST'],
        'dry-run': ['GET', 'POST'],
        meta: ['GET']
      };
      if (!methods[route]) return json({ error: 'Not found' }, 404);
      if (!methods[route].includes(request.method)) return json({ error: `Method ${request.method} not allowed` }, 405);
      const ctx = await authenticate(request);
      if (route === 'meta') return json(meta());
      const params = await readParams(request, url);
      if (route === 'load' || route === 'subscribe') return json(await loadImpl(params.query, ctx, params.queryType === 'multi'));
      if (route === 'sql') return json(sqlImpl(params.query, ctx));
      const { queryType, prepared } = prepareAll(params.query, ctx);
      return json({
        queryType,
        normalizedQueries: prepared.map((p) => p.query),
        queryOrder: prepared.map((p) => Object.fromEntries(p.plan.order.map((o) => [o.id, o.desc ? 'desc' : 'asc']))),
        pivotQuery: pivotQuery(
          queryType,
          prepared.map((p) => p.query)
        ),
        transformedQueries: prepared.map(() => null)
      });
    } catch (e) {
      return errorResponse(e, log);
    }
  }

  function meta(): { cubes: MetaCube[] } {
    return { cubes: publicMeta };
  }

  return {
    model,
    handle,
    load: (query, ctx, opts) =>
      Promise.resolve().then(() =>
        loadImpl(query, ctx, opts?.queryType === 'multi', opts && 'onPersonalData' in opts ? opts.onPersonalData : options.onPersonalData)
      ),
    sql: (query, ctx) => Promise.resolve().then(() => sqlImpl(query, ctx)),
    meta,
    personalMembers: personal,
    token: (ctx, expiresIn) => signToken(ctx, secret, expiresIn)
  };
}

/** Personal members of a compiled model: cube members with meta.personal, and the view members over them. */
export function personalMembersOf(model: SemanticModel): PersonalMembers {
  const out: PersonalMembers = {};
  for (const cube of model.cubes.values()) {
    for (const m of [...cube.dimensions.values(), ...cube.measures.values(), ...cube.segments.values()]) {
      const kind = personalKindOf(m.meta);
      if (kind) out[m.path] = kind;
    }
  }
  for (const view of model.views.values()) {
    for (const vm of [...view.dimensions.values(), ...view.measures.values(), ...view.segments.values()]) {
      const kind = personalKindOf(vm.target.meta) ?? personalKindOf(vm.meta);
      if (kind) out[vm.path] = kind;
    }
  }
  return out;
}

/** Masked value of a personal member: masking.ts for known kinds, all stars otherwise. */
function maskValue(kind: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const s = String(value);
  if (kind === 'id_number') return maskIdNumber(s);
  if (kind === 'name') return maskName(s);
  if (kind === 'phone') return maskPhone(s);
  return '*'.repeat(Math.min(Array.from(s).length, 8));
}

/**
 * For callers who may not read personal data and sent no order: Cube's default order (first
 * time dimension with granularity, else first measure descending, else first dimension) with
 * personal dimensions skipped. Undefined when Cube's own default is already safe.
 */
function defaultOrderAvoidingPersonal(q: NormalizedQuery, personal: PersonalMembers): { id: string; desc: boolean }[] | undefined {
  if (q.timeDimensions.some((t) => t.granularity) || (q.measures ?? []).length) return undefined;
  if (!q.dimensions.length || personal[q.dimensions[0]] === undefined) return undefined;
  const safe = q.dimensions.find((d) => personal[d] === undefined);
  return safe ? [{ id: safe, desc: false }] : [];
}

function pivotQuery(queryType: 'regularQuery' | 'blendingQuery', queries: NormalizedQuery[]): Record<string, unknown> {
  if (queryType === 'blendingQuery') {
    const uniq = (xs: string[]) => [...new Set(xs)];
    return {
      measures: uniq(queries.flatMap((q) => q.measures ?? [])),
      dimensions: uniq(queries.flatMap((q) => q.dimensions)),
      timeDimensions: [{ dimension: 'time', granularity: queries[0].timeDimensions[0]?.granularity }],
      queryType
    };
  }
  return { ...queries[0], queryType };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** Any error as Cube's error shapes (core/errors.ts, the one mapping); never a stack or SQL internals. */
export function errorResponse(e: unknown, log: (m: string) => void = () => {}): Response {
  return coreErrorResponse(e, log);
}

// ---------------------------------------------------------------------------------------------
// Values as Cube's Postgres driver and gateway return them

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function formatTimestamp(val: string): string {
  // 'YYYY-MM-DD HH:mm:ss[.ffffff]' → 'YYYY-MM-DDTHH:mm:ss.SSS'
  const ms = val.length > 19 ? `${val.slice(20, 23)}00`.slice(0, 3) : '000';
  return `${val.slice(0, 10)}T${val.slice(11, 19)}.${ms}`;
}

function formatTimestampTz(val: string): string {
  const m = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(val);
  if (!m) return val;
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
  const ms = m[7] ? Number(`${m[7]}00`.slice(0, 3)) : 0;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), ms);
  const t = new Date(d.getTime() - offset);
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}`;
}

function getTypeParser(oid: number, format?: string): (v: string) => unknown {
  if (oid === 1082) return (v: string) => `${v}T00:00:00.000`;
  if (oid === 1114) return formatTimestamp;
  if (oid === 1184) return formatTimestampTz;
  // NUMERIC stays a string (no float rounding), as in Cube's driver.
  if (oid === 1700) return (v: string) => v;
  return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
}

const LOCAL_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;

function transformValue(value: unknown, type: string): unknown {
  if (value && (type === 'time' || value instanceof Date)) {
    if (typeof value === 'string' && LOCAL_MS.test(value)) return value;
    const d = value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? String(value) : `${String(value)}Z`);
    if (Number.isNaN(d.getTime())) return value;
    return d.toISOString().slice(0, 23);
  }
  return value;
}

/** Exposed for tests. */
export const __internal = { formatTimestamp, formatTimestampTz, transformValue };
export type { MetaMember };
