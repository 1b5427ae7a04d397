// /v1/meta and result annotations, shaped like Cube's CubeToMetaTransformer + the gateway's
// visibility filter and prepareAnnotation: titles default to the humanized name, primary keys
// and `public: false` members are left out, measures are annotated with type "number".
import {
  isMemberVisible,
  resolveMemberPath,
  type CubeMember,
  type MeasureDef,
  type DimensionDef,
  type Owner,
  type SemanticModel,
  type ViewMemberDef
} from './model.ts';
import type { NormalizedQuery } from './query.ts';

export interface MetaMember {
  name: string;
  title: string;
  shortTitle: string;
  description?: string;
  type?: string;
  format?: unknown;
  meta?: unknown;
  isVisible: boolean;
  public: boolean;
  [key: string]: unknown;
}

export interface MetaCube {
  name: string;
  type: 'cube' | 'view';
  title: string;
  isVisible: boolean;
  public: boolean;
  description?: string;
  connectedComponent?: number;
  meta?: unknown;
  measures: MetaMember[];
  dimensions: MetaMember[];
  segments: MetaMember[];
  hierarchies: unknown[];
  folders: unknown[];
  nestedFolders: unknown[];
}

const NAMED_NUMERIC_FORMATS: Record<string, string> = (() => {
  const out: Record<string, string> = { decimal: ',.2~f', abbr: '.2~s', id: '.0f', accounting: '(,.2~f' };
  for (let i = 0; i <= 6; i++) {
    const t = i === 0 ? '' : '~';
    out[`number_${i}`] = `,.${i}${t}f`;
    out[`percent_${i}`] = `.${i}${t}%`;
    out[`currency_${i}`] = `$,.${i}${t}f`;
    out[`decimal_${i}`] = `,.${i}${t}f`;
    out[`abbr_${i}`] = `.${i}~s`;
    out[`accounting_${i}`] = `(,.${i}${t}f`;
  }
  return out;
})();
const STANDARD_SPECIFIERS: Record<string, { name: string; specifier: string }> = {
  percent: { name: 'percent', specifier: '.2~%' },
  currency: { name: 'currency', specifier: '$,.2~f' },
  number: { name: 'number', specifier: ',.2~f' },
  abbr: { name: 'abbr', specifier: '.2~s' },
  accounting: { name: 'accounting', specifier: '(,.2~f' },
  id: { name: 'id', specifier: '.0f' }
};

const NON_TITLECASED = new Set([
  'and',
  'or',
  'nor',
  'a',
  'an',
  'the',
  'so',
  'but',
  'to',
  'of',
  'at',
  'by',
  'from',
  'into',
  'on',
  'onto',
  'off',
  'out',
  'in',
  'over',
  'with',
  'for'
]);

/** inflection.titleize(underscore(pascal(name))) with Cube's "Id" → "ID". */
export function titleize(name: string): string {
  const underscored = name
    .replace(/_([a-z\d])/g, (_m, c: string) => c.toUpperCase())
    .replace(/^[a-z]/, (c) => c.toUpperCase())
    .replace(/([A-Z\d]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .toLowerCase();
  const words = underscored
    .replace(/_/g, ' ')
    .split(' ')
    .map((w) =>
      w
        .split('-')
        .map((part) => (NON_TITLECASED.has(part) ? part : part.charAt(0).toUpperCase() + part.slice(1)))
        .join('-')
    );
  const joined = words.join(' ');
  return (joined.charAt(0).toUpperCase() + joined.slice(1)).replace(/\bId(s?)\b/g, (_m, plural: string) => `ID${plural}`);
}

function measureFormat(format: string | undefined): unknown {
  if (!format) return undefined;
  if (NAMED_NUMERIC_FORMATS[format]) return { type: 'custom-numeric', value: NAMED_NUMERIC_FORMATS[format], alias: format };
  if (['percent', 'currency', 'number'].includes(format)) return format;
  return { type: 'custom-numeric', value: format };
}

function dimensionFormat(format: string | undefined, type: string): unknown {
  if (!format) return undefined;
  if (NAMED_NUMERIC_FORMATS[format]) return { type: 'custom-numeric', value: NAMED_NUMERIC_FORMATS[format], alias: format };
  if (['imageUrl', 'currency', 'percent', 'number', 'id'].includes(format)) return format;
  if (type === 'time') return { type: 'custom-time', value: format };
  if (type === 'number') return { type: 'custom-numeric', value: format };
  return format;
}

function formatDescription(format: unknown, currency: string | undefined): Record<string, string> {
  let desc: Record<string, string>;
  if (format && typeof format === 'object' && (format as { type?: string }).type === 'custom-numeric') {
    const f = format as { alias?: string; value: string };
    desc = { name: f.alias || 'custom', specifier: f.value };
  } else if (typeof format === 'string' && STANDARD_SPECIFIERS[format]) desc = { ...STANDARD_SPECIFIERS[format] };
  else desc = { name: 'number', specifier: ',.2~f' };
  if (currency) desc.currency = currency;
  return desc;
}

const dataType = (m: MeasureDef) => (['number', 'string', 'time', 'boolean'].includes(m.type) ? m.type : 'number');

function ownerTitle(o: Owner): string {
  return o.title || titleize(o.name);
}

function connectedComponents(model: SemanticModel): Record<string, number> {
  const adjacency = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!adjacency.has(a)) adjacency.set(a, new Set());
    adjacency.get(a)!.add(b);
  };
  const withJoins: string[] = [];
  for (const [from, edges] of model.edges) {
    if (edges.size) withJoins.push(from);
    for (const to of edges.keys()) {
      link(from, to);
      link(to, from);
    }
  }
  const components: Record<string, number> = {};
  let id = 1;
  for (const start of withJoins) {
    const stack = [start];
    while (stack.length) {
      const n = stack.pop()!;
      if (components[n]) continue;
      components[n] = id;
      for (const x of adjacency.get(n) ?? []) stack.push(x);
    }
    id += 1;
  }
  return components;
}

function measureConfig(
  owner: Owner,
  name: string,
  m: MeasureDef,
  vm: ViewMemberDef | undefined,
  visible: boolean,
  isMeasurePath: (p: string) => boolean
): MetaMember {
  const cubeTitle = ownerTitle(owner);
  const short = (vm ? vm.title : m.title) || titleize(name);
  const fmt = measureFormat(vm ? vm.format : m.format);
  const type = dataType(m);
  const drill = vm ? (vm.drillMembers ?? []) : m.drillMembers;
  const grouped = { measures: drill.filter(isMeasurePath), dimensions: drill.filter((p) => !isMeasurePath(p)) };
  return {
    name: `${owner.name}.${name}`,
    title: `${cubeTitle} ${short}`,
    description: vm ? vm.description : m.description,
    shortTitle: short,
    format: fmt,
    formatDescription: ['string', 'boolean', 'time'].includes(type) ? undefined : formatDescription(fmt, m.currency?.toUpperCase()),
    currency: m.currency?.toUpperCase(),
    cumulativeTotal: false,
    cumulative: false,
    type,
    aggType: m.type,
    drillMembers: drill,
    drillMembersGrouped: grouped,
    aliasMember: vm ? m.path : undefined,
    meta: vm ? vm.meta : m.meta,
    isVisible: visible,
    public: visible
  };
}

function dimensionConfig(owner: Owner, name: string, d: DimensionDef, vm: ViewMemberDef | undefined, visible: boolean): MetaMember {
  const cubeTitle = ownerTitle(owner);
  const short = (vm ? vm.title : d.title) || titleize(name);
  const fmt = dimensionFormat(vm ? vm.format : d.format, d.type);
  return {
    name: `${owner.name}.${name}`,
    title: `${cubeTitle} ${short}`,
    type: d.type,
    description: vm ? vm.description : d.description,
    shortTitle: short,
    suggestFilterValues: true,
    format: fmt,
    formatDescription: d.type === 'number' ? formatDescription(fmt, d.currency?.toUpperCase()) : undefined,
    currency: d.currency?.toUpperCase(),
    meta: vm ? vm.meta : d.meta,
    isVisible: visible,
    public: visible,
    primaryKey: vm ? false : d.primaryKey,
    aliasMember: vm ? d.path : undefined
  };
}

function segmentConfig(owner: Owner, name: string, s: CubeMember, vm: ViewMemberDef | undefined, visible: boolean): MetaMember {
  const cubeTitle = ownerTitle(owner);
  const short = (vm ? vm.title : s.title) || titleize(name);
  return {
    name: `${owner.name}.${name}`,
    title: `${cubeTitle} ${short}`,
    shortTitle: short,
    description: vm ? vm.description : s.description,
    meta: vm ? vm.meta : s.meta,
    isVisible: visible,
    public: visible
  };
}

/** Every cube and view with every member, with visibility flags (CubeToMetaTransformer). */
export function buildMetaConfig(model: SemanticModel): MetaCube[] {
  const components = connectedComponents(model);
  const isMeasurePath = (p: string) => {
    try {
      return resolveMemberPath(model, p).kind === 'measure';
    } catch {
      return false;
    }
  };
  const out: MetaCube[] = [];
  for (const name of model.order) {
    const owner: Owner = model.cubes.get(name) ?? model.views.get(name)!;
    const visibleOwner = owner.public !== false;
    const entries = (kind: 'measures' | 'dimensions' | 'segments') => {
      const map = owner[kind] as Map<string, CubeMember | ViewMemberDef>;
      return [...map.entries()].map(([n, x]) => {
        const vm = 'view' in x ? (x as ViewMemberDef) : undefined;
        const target = vm ? vm.target : (x as CubeMember);
        const visible = visibleOwner && isMemberVisible(owner, x);
        if (kind === 'measures') return measureConfig(owner, n, target as MeasureDef, vm, visible, isMeasurePath);
        if (kind === 'dimensions') return dimensionConfig(owner, n, target as DimensionDef, vm, visible);
        return segmentConfig(owner, n, target, vm, visible);
      });
    };
    out.push({
      name: owner.name,
      type: owner.kind,
      title: ownerTitle(owner),
      isVisible: visibleOwner,
      public: visibleOwner,
      description: owner.description,
      connectedComponent: owner.kind === 'cube' ? components[owner.name] : undefined,
      meta: owner.meta,
      measures: entries('measures'),
      dimensions: entries('dimensions'),
      segments: entries('segments'),
      hierarchies: [],
      folders: [],
      nestedFolders: []
    });
  }
  return out;
}

/** The gateway's filterVisibleItemsInMeta: hidden members out, cubes left empty out. */
export function visibleMeta(config: MetaCube[]): MetaCube[] {
  return config
    .map((c) => ({
      ...c,
      measures: c.measures.filter((m) => m.isVisible),
      dimensions: c.dimensions.filter((m) => m.isVisible),
      segments: c.segments.filter((m) => m.isVisible)
    }))
    .filter((c) => c.measures.length || c.dimensions.length || c.segments.length);
}

export interface Annotation {
  measures: Record<string, unknown>;
  dimensions: Record<string, unknown>;
  segments: Record<string, unknown>;
  timeDimensions: Record<string, unknown>;
}

const GRANULARITY_TITLES: Record<string, string> = {
  second: 'Second',
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  week: 'Week',
  month: 'Month',
  quarter: 'Quarter',
  year: 'Year'
};

/** prepareAnnotation over the visible meta. */
export function prepareAnnotation(visible: Map<string, MetaMember>, q: NormalizedQuery): Annotation {
  const item = (path: string, kind: 'measure' | 'dimension' | 'segment'): Record<string, unknown> | undefined => {
    const c = visible.get(path);
    if (!c) return undefined;
    return {
      title: c.title,
      shortTitle: c.shortTitle,
      description: c.description,
      type: c.type,
      format: c.format,
      currency: c.currency,
      meta: c.meta,
      ...(kind === 'measure' ? { drillMembers: c.drillMembers, drillMembersGrouped: c.drillMembersGrouped } : {})
    };
  };
  const pairs = (list: string[], kind: 'measure' | 'dimension' | 'segment') =>
    Object.fromEntries(list.map((p) => [p, item(p, kind)] as const).filter(([, v]) => !!v));
  const timeDimensions: Record<string, unknown> = {};
  for (const td of q.timeDimensions) {
    if (!td.granularity) continue;
    const base = item(td.dimension, 'dimension');
    if (base) {
      timeDimensions[`${td.dimension}.${td.granularity}`] = {
        ...base,
        granularity: { name: td.granularity, title: GRANULARITY_TITLES[td.granularity], interval: `1 ${td.granularity}` }
      };
      if (!q.dimensions.includes(td.dimension)) timeDimensions[td.dimension] = base;
    }
  }
  return {
    measures: pairs(q.measures ?? [], 'measure'),
    dimensions: pairs(q.dimensions, 'dimension'),
    segments: pairs(q.segments ?? [], 'segment'),
    timeDimensions
  };
}

/** Visible members by path, for annotations. */
export function visibleMembers(meta: MetaCube[]): Map<string, MetaMember> {
  const out = new Map<string, MetaMember>();
  for (const c of meta) for (const m of [...c.measures, ...c.dimensions, ...c.segments]) if (m.isVisible) out.set(m.name, m);
  return out;
}
