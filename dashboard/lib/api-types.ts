// The JSON the screen's server code returns — to a page load directly, to a refresh through /api/*
// (/api/indicators, /api/indicators/<code>/regions, /api/people, /api/alerts/recent, /api/geo).
// One definition: the server modules (lib/server/indicators.ts, people.ts, geo.ts) are typed with
// these, and the pages and components read them. Types only, so both sides may import it.
import type { Unit } from './format.ts';
import type { Family } from './i18n.ts';

/** One definition, with the threshold evaluation that produces it (a type-only import: nothing of it reaches the browser). */
export type { Status } from '../../semantic-layer/thresholds.ts';
import type { Status } from '../../semantic-layer/thresholds.ts';
export type Level = 'city' | 'district' | 'town' | 'community';

export interface RegionRef {
  code: string;
  name: string;
  level: Level;
}

export interface Indicator {
  code: string;
  family: Family;
  title_zh: string;
  title_en: string;
  /** The tile's English label where title_en is too long for a tile (the model's meta short_en), else null. */
  short_en: string | null;
  unit: Unit;
  direction: 'higher_better' | 'lower_better' | 'neutral';
  grain: 'month' | 'now';
  value: number | null;
  /** The value as the database gave it (exact decimal string), or null. */
  exact: string | null;
  previous: number | null;
  lastYear: number | null;
  mom: number | null;
  yoy: number | null;
  zScore: number | null;
  /** Percent change against the median of the trailing 12 periods (the fluctuation rule's change), or null. */
  vsMedian: number | null;
  status: Status;
  reason_zh: string | null;
  reason_en: string | null;
  series: { period: string; value: number | null }[];
  drillable: boolean;
  /** A "now" indicator on a month without a snapshot of its own (a past month): it has a current value only. */
  current_only: boolean;
  /** An R indicator with a list of the alerts behind it (/screen/<area>/alerts/<code>). */
  alerts_listable: boolean;
  /** A city-wide figure (the fund ledger is pooled per scheme, A06/A07): the same on every area's screen. */
  city_level: boolean;
  /** Fixed limits from the model (thresholds.bound): the gauge draws them. */
  bounds: { below?: { warn?: number; critical?: number }; above?: { warn?: number; critical?: number } } | null;
  breakdown?: {
    key: string;
    label_zh: string;
    label_en: string;
    value: number | null;
    status?: Status;
    reason_zh?: string | null;
    reason_en?: string | null;
  }[];
  /** Companion figures shown on the tile (the model's `companion` meta), each summed over its window up to the month shown. */
  companions?: { key: string; title_zh: string; title_en: string; unit: Unit; window: 'month' | 'last12' | 'to_date'; value: number }[];
}

export interface Freshness {
  feed: string;
  title_zh: string;
  title_en: string;
  last_loaded_at: string | null;
  expected_hours: number;
  stale: boolean;
}

export interface IndicatorsResponse {
  region: RegionRef & { path: string; breadcrumb: RegionRef[]; children: RegionRef[] };
  period: string;
  periods: string[];
  /** The month of the "now" snapshot the board shows (the newest at or after `period`). */
  nowPeriod: string | null;
  asOf: string | null;
  privacy: boolean;
  freshness: Freshness[];
  indicators: Indicator[];
}

export interface RegionRow {
  code: string;
  name: string;
  value: number | null;
  status: Status;
}
export interface RegionsResponse {
  indicator: string;
  level: Level | null;
  period?: string;
  rows: RegionRow[];
}

export interface AlertRow {
  alert_id: string | number;
  rule: string;
  rule_zh: string;
  rule_en?: string;
  name: string | null;
  amount_at_risk: string | null;
  opened_at: string;
  region_name: string | null;
  severity: string;
  /** Privacy mode: the row counts this many alerts of its rule, area and severity (no person, no time). */
  count?: number;
  /** The R indicator whose list holds the alert (its rule's count, else R06 — money at risk). */
  indicator?: string;
}
export interface AlertsResponse {
  rows: AlertRow[];
}

/** `columns`: the values of the list's extra columns (PeopleResponse.columns), by key. */
export interface PersonRow {
  id_number: string;
  name: string;
  sex: 'M' | 'F' | string;
  age: number | null;
  region_name: string | null;
  columns: Record<string, string | null>;
}
/** An extra column of a list, from the model (the indicator's drill.columns): what makes a person count. */
export interface PeopleColumn {
  key: string;
  title_zh: string;
  title_en: string;
}
/** `period`: for a month-grain indicator, the month whose people are listed; null for "now" (the latest snapshot). */
export interface PeopleResponse {
  indicator: string;
  title_zh: string;
  title_en: string;
  total: number;
  rows: PersonRow[];
  columns: PeopleColumn[];
  masked: boolean;
  may_unmask: boolean;
  grain: 'month' | 'now';
  period: string | null;
}

/** One alert of a list behind an R number: the person masked, money exact (decimal strings). */
export interface AlertListRow {
  alert_id: number;
  rule: string;
  rule_zh: string;
  rule_en?: string;
  name: string | null;
  status: string;
  status_zh: string;
  status_en: string;
  amount: string | null;
  opened_at: string;
  region_name: string | null;
  severity: string;
}
/** The alerts behind an R indicator in an area (and month, for a month-grain one); `amount`, their money summed exactly. */
export interface AlertListResponse {
  indicator: string;
  title_zh: string;
  title_en: string;
  grain: 'month' | 'now';
  period: string | null;
  total: number;
  amount: string;
  amount_title: 'amount_at_risk' | 'recovered_to_date';
  rows: AlertListRow[];
}

export interface GeoFeature {
  type: 'Feature';
  properties: { code: string; name: string; level: Level; parent_code: string | null };
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown };
}
export interface GeoCollection {
  type: 'FeatureCollection';
  features: GeoFeature[];
}
