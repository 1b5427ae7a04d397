// Query normalization and validation — @cubejs-backend/api-gateway's normalizeQuery: the same
// accepted shape, defaults (limit 10000, timezone UTC), limit cap (50000), `cube.td.gran`
// dimensions moved to timeDimensions, relative date ranges resolved in the query's zone.
// Errors are UserErrors ("Invalid query format: …") → 400.
import { canonicalTimezone, LOCAL_MS_RE, resolveDateRange } from './dates.ts';
import { UserError } from './errors.ts';

export const DEFAULT_LIMIT = 10_000;
export const MAX_LIMIT = 50_000;

export const GRANULARITIES = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const OPERATORS = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'in',
  'notIn',
  'gt',
  'gte',
  'lt',
  'lte',
  'set',
  'notSet',
  'inDateRange',
  'notInDateRange',
  'onTheDate',
  'beforeDate',
  'beforeOrOnDate',
  'afterDate',
  'afterOrOnDate',
  'measureFilter'
] as const;
export type Operator = (typeof OPERATORS)[number];

export interface LeafFilter {
  member: string;
  operator: Operator;
  values?: (string | null)[];
}
export type QueryFilter = LeafFilter | { or: QueryFilter[] } | { and: QueryFilter[] };

export interface QueryTimeDimension {
  dimension: string;
  granularity?: Granularity;
  dateRange?: [string, string];
}

export type ResponseFormat = 'default' | 'compact' | 'columnar';

/** A query as Cube answers it in `results[].query`. */
export interface NormalizedQuery {
  measures?: string[];
  dimensions: string[];
  segments?: string[];
  timeDimensions: QueryTimeDimension[];
  filters: QueryFilter[];
  order?: { id: string; desc: boolean }[];
  limit: number;
  rowLimit: number;
  offset?: number;
  total?: boolean;
  timezone: string;
  ungrouped?: boolean;
  responseFormat?: ResponseFormat;
  renewQuery?: boolean;
  queryType?: string;
}

const MEMBER_RE = /^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$/;
const DIMENSION_RE = /^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)?$/;
const ORDER_ID_RE = /^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$|^[a-zA-Z0-9_]+$|^[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+\.[a-zA-Z0-9_]+$/;
const ALLOWED_KEYS = new Set([
  'measures',
  'dimensions',
  'filters',
  'timeDimensions',
  'order',
  'segments',
  'timezone',
  'limit',
  'offset',
  'total',
  'cache',
  'cacheMode',
  'renewQuery',
  'ungrouped',
  'responseFormat'
]);
const DATE_RANGE_OPERATORS = new Set(['inDateRange', 'notInDateRange', 'onTheDate']);
const START_DATE_OPERATORS = new Set(['beforeDate', 'afterOrOnDate']);
const END_DATE_OPERATORS = new Set(['beforeOrOnDate', 'afterDate']);
const ABSOLUTE_DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

function invalid(message: string): never {
  throw new UserError(`Invalid query format: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function memberList(q: Record<string, unknown>, key: string, re: RegExp): string[] | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) invalid(`"${key}" must be an array`);
  return v.map((m, i) => {
    if (typeof m !== 'string') invalid(`"${key}[${i}]" must be a string`);
    if (!re.test(m)) invalid(`"${key}[${i}]" with value "${m}" fails to match the required pattern: ${re}`);
    return m;
  });
}

function integer(q: Record<string, unknown>, key: string): number | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(`"${key}" must be a number`);
  if (!Number.isInteger(v)) invalid(`"${key}" must be an integer`);
  if (v < 0) invalid(`"${key}" must be greater than or equal to 0`);
  return v;
}

function boolean(q: Record<string, unknown>, key: string): boolean | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') invalid(`"${key}" must be a boolean`);
  return v;
}

/** How deep or/and groups may nest: real queries use two or three; 10,000 levels ate the stack. */
const MAX_FILTER_DEPTH = 16;

function parseFilters(list: unknown, path: string, tz: string, now?: Date, depth = 0): QueryFilter[] {
  if (!Array.isArray(list)) invalid(`"${path}" must be an array`);
  if (depth > MAX_FILTER_DEPTH) invalid(`"filters" may nest or/and groups at most ${MAX_FILTER_DEPTH} deep`);
  return list.map((f, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(f)) invalid(`"${at}" must be an object`);
    const hasOr = f.or !== undefined;
    const hasAnd = f.and !== undefined;
    if (hasOr || hasAnd) {
      if (hasOr && hasAnd) invalid(`"${at}" contains a conflict between exclusive peers [or, and]`);
      for (const k of Object.keys(f)) if (k !== 'or' && k !== 'and') invalid(`"${at}.${k}" is not allowed`);
      const key = hasOr ? 'or' : 'and';
      const inner = parseFilters(f[key], `${at}.${key}`, tz, now, depth + 1);
      return hasOr ? { or: inner } : { and: inner };
    }
    for (const k of Object.keys(f)) {
      if (!['member', 'dimension', 'operator', 'values'].includes(k)) invalid(`"${at}.${k}" is not allowed`);
    }
    if (f.member !== undefined && f.dimension !== undefined)
      invalid(`"${at}" contains a conflict between exclusive peers [dimension, member]`);
    const member = f.member ?? f.dimension;
    if (member === undefined) invalid(`"${at}" must contain at least one of [dimension, member]`);
    if (typeof member !== 'string' || !MEMBER_RE.test(member)) {
      invalid(`"${at}.member" with value "${String(member)}" fails to match the required pattern: ${MEMBER_RE}`);
    }
    if (f.operator === undefined) throw new UserError(`Operator required for filter: ${JSON.stringify(f)}`);
    if (typeof f.operator !== 'string' || !(OPERATORS as readonly string[]).includes(f.operator)) {
      throw new UserError(`Operator ${String(f.operator)} not supported for filter: ${JSON.stringify(f)}`);
    }
    const operator = f.operator as Operator;
    let values: (string | null)[] | undefined;
    if (f.values !== undefined) {
      if (!Array.isArray(f.values)) invalid(`"${at}.values" must be an array`);
      values = f.values.map((v, k) => {
        if (v === null) return null;
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
        invalid(`"${at}.values[${k}]" must be one of [string, number, boolean, null]`);
      });
    }
    if ((!values || values.length === 0) && !['set', 'notSet', 'measureFilter'].includes(operator)) {
      throw new UserError(`Values required for filter: ${JSON.stringify(f)}`);
    }
    const leaf: LeafFilter = { member, operator };
    if (values) leaf.values = normalizeDateValues(operator, values, tz, now);
    return leaf;
  });
}

/** Relative date strings inside filter values (the gateway's normalizeDateFilterValues). */
function normalizeDateValues(operator: Operator, values: (string | null)[], tz: string, now?: Date): (string | null)[] {
  const isRange = DATE_RANGE_OPERATORS.has(operator);
  if (isRange && values.length > 1 && values.some((v) => typeof v === 'string' && !ABSOLUTE_DATE_RE.test(v))) {
    throw new UserError(
      `Relative-date strings are only supported when \`values\` has a single element for operator \`${operator}\`. Pass an absolute two-element [start, end] pair, or a single relative string like ["last 2 weeks"]. Got: ${JSON.stringify(values)}`
    );
  }
  if (values.length !== 1 || typeof values[0] !== 'string') return values;
  const v = values[0];
  if (isRange) return resolveDateRange(v, tz, now);
  if (ABSOLUTE_DATE_RE.test(v) || LOCAL_MS_RE.test(v)) return values;
  if (START_DATE_OPERATORS.has(operator)) return [resolveDateRange(v, tz, now)[0]];
  if (END_DATE_OPERATORS.has(operator)) return [resolveDateRange(v, tz, now)[1]];
  return values;
}

function parseTimeDimensions(list: unknown, tz: string, now?: Date): QueryTimeDimension[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) invalid('"timeDimensions" must be an array');
  return list.map((td, i) => {
    const at = `timeDimensions[${i}]`;
    if (!isObject(td)) invalid(`"${at}" must be an object`);
    for (const k of Object.keys(td)) {
      if (k === 'compareDateRange') throw new UserError('compareDateRange queries are not supported by this server');
      if (!['dimension', 'granularity', 'dateRange'].includes(k)) invalid(`"${at}.${k}" is not allowed`);
    }
    if (typeof td.dimension !== 'string') invalid(`"${at}.dimension" is required`);
    if (!MEMBER_RE.test(td.dimension))
      invalid(`"${at}.dimension" with value "${td.dimension}" fails to match the required pattern: ${MEMBER_RE}`);
    const out: QueryTimeDimension = { dimension: td.dimension };
    if (td.granularity !== undefined && td.granularity !== null) {
      if (typeof td.granularity !== 'string') invalid(`"${at}.granularity" must be a string`);
      if (!(GRANULARITIES as readonly string[]).includes(td.granularity)) {
        throw new UserError(`Granularity '${td.granularity}' is not supported; use one of ${GRANULARITIES.join(', ')}`);
      }
      out.granularity = td.granularity as Granularity;
    }
    if (td.dateRange !== undefined && td.dateRange !== null) {
      const dr = td.dateRange;
      if (typeof dr === 'string') out.dateRange = resolveDateRange(dr, tz, now);
      else if (Array.isArray(dr) && dr.length >= 1 && dr.length <= 2 && dr.every((d) => typeof d === 'string')) {
        out.dateRange = resolveDateRange(dr as string[], tz, now);
      } else invalid(`"${at}.dateRange" must be a string or an array of one or two strings`);
    }
    return out;
  });
}

function parseOrder(order: unknown): { id: string; desc: boolean }[] | undefined {
  if (order === undefined) return undefined;
  const check = (id: unknown, dir: unknown, at: string) => {
    if (typeof id !== 'string' || !ORDER_ID_RE.test(id)) invalid(`"${at}" is not a valid member name`);
    if (dir !== 'asc' && dir !== 'desc') invalid(`"${at}" must be one of [asc, desc]`);
    return { id, desc: dir === 'desc' };
  };
  if (Array.isArray(order)) {
    return order.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length < 2) invalid(`"order[${i}]" must be a [member, "asc" | "desc"] pair`);
      return check(pair[0], pair[1], `order[${i}]`);
    });
  }
  if (isObject(order)) return Object.entries(order).map(([k, v]) => check(k, v, `order.${k}`));
  invalid('"order" must be an object or an array of [member, direction] pairs');
}

/**
 * Validate and normalize one REST query. `now` (tests) fixes the clock for relative dates.
 * A normalized query may be normalized again (after queryRewrite) with the same result.
 */
export function normalizeQuery(input: unknown, options: { now?: Date; maxLimit?: number } = {}): NormalizedQuery {
  if (!isObject(input)) invalid('"value" must be of type object');
  for (const k of Object.keys(input)) if (!ALLOWED_KEYS.has(k)) invalid(`"${k}" is not allowed`);
  let timezone = 'UTC';
  if (input.timezone !== undefined) {
    const tz = canonicalTimezone(input.timezone);
    if (!tz) invalid(`"timezone" must be a valid IANA time zone, got "${String(input.timezone)}"`);
    timezone = tz;
  }
  const measures = memberList(input, 'measures', MEMBER_RE);
  const dimensionsAll = memberList(input, 'dimensions', DIMENSION_RE) ?? [];
  const segments = memberList(input, 'segments', MEMBER_RE);
  let timeDimensions = parseTimeDimensions(input.timeDimensions, timezone, options.now);
  const filters = input.filters === undefined ? [] : parseFilters(input.filters, 'filters', timezone, options.now);
  const order = parseOrder(input.order);
  const limit = integer(input, 'limit');
  const offset = integer(input, 'offset');
  const total = boolean(input, 'total');
  const ungrouped = boolean(input, 'ungrouped');
  const renewQuery = boolean(input, 'renewQuery');
  if (input.responseFormat !== undefined && !['default', 'compact', 'columnar'].includes(input.responseFormat as string)) {
    invalid('"responseFormat" must be one of [default, compact, columnar]');
  }
  const hasGranularity = timeDimensions.some((td) => !!td.granularity) || dimensionsAll.some((d) => d.split('.').length === 3);
  if (!measures?.length && !dimensionsAll.length && !hasGranularity) {
    throw new UserError('Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid');
  }
  const maxLimit = options.maxLimit ?? MAX_LIMIT;
  if (limit !== undefined && limit > maxLimit) {
    throw new UserError(`The query limit has been exceeded: limit ${limit} is above the maximum of ${maxLimit} rows`);
  }
  const dimensions: string[] = [];
  for (const d of dimensionsAll) {
    const parts = d.split('.');
    if (parts.length === 3) {
      if (!(GRANULARITIES as readonly string[]).includes(parts[2]))
        throw new UserError(`Granularity '${parts[2]}' is not supported; use one of ${GRANULARITIES.join(', ')}`);
      timeDimensions = timeDimensions.concat({ dimension: `${parts[0]}.${parts[1]}`, granularity: parts[2] as Granularity });
    } else dimensions.push(d);
  }
  const effectiveLimit = limit ?? DEFAULT_LIMIT;
  const q: NormalizedQuery = {
    ...(measures ? { measures } : {}),
    dimensions,
    ...(segments ? { segments } : {}),
    timeDimensions,
    filters,
    ...(order ? { order } : {}),
    limit: effectiveLimit,
    rowLimit: effectiveLimit,
    ...(offset !== undefined ? { offset } : {}),
    ...(total !== undefined ? { total } : {}),
    timezone,
    ...(ungrouped !== undefined ? { ungrouped } : {}),
    ...(input.responseFormat !== undefined ? { responseFormat: input.responseFormat as ResponseFormat } : {}),
    ...(renewQuery !== undefined ? { renewQuery } : {})
  };
  return q;
}

/** The REST form of a normalized query (order as pairs), e.g. to hand to queryRewrite. */
export function toRestQuery(q: NormalizedQuery): Record<string, unknown> {
  const { order, rowLimit: _rowLimit, queryType: _qt, ...rest } = q;
  return { ...rest, ...(order ? { order: order.map((o) => [o.id, o.desc ? 'desc' : 'asc']) } : {}) };
}

export function isLeaf(f: QueryFilter): f is LeafFilter {
  return 'member' in f;
}
