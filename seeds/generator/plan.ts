// Scale settings and the plan of planted cases: which person index plays which role. Planned up
// front from its own random stream so the per-person generator can be a single streaming pass.
import { type Month } from './calendar.ts';
import { Rng } from './rng.ts';

export type Scale = 'tiny' | 'demo' | 'town' | 'city' | 'city3';

export interface ScaleConfig {
  recipients: number;
  insured: number;
  districts: number;
  townsX: number;
  townsY: number;
  communities: number;
  /** Payment months, ending with the month before as-of. */
  months: number;
  /** Planted cases per per-person risk rule. */
  perRule: number;
  sharedAccountGroups: number;
  couples: number;
  late: number;
  policyPerKind: number;
  explained: number;
  sameDay: number;
  /** Living recipients whose death / custody record is withdrawn later (issue 21). */
  withdrawnDeaths: number;
  withdrawnCustody: number;
}

// The city: the mix town and city3 share (people per community, payment months, planted cases).
const CITY: ScaleConfig = {
  recipients: 330_000,
  insured: 760_000,
  districts: 10,
  townsX: 4,
  townsY: 2,
  communities: 10,
  months: 36,
  perRule: 40,
  sharedAccountGroups: 15,
  couples: 300,
  late: 20,
  policyPerKind: 8,
  explained: 10,
  sameDay: 5,
  withdrawnDeaths: 5,
  withdrawnCustody: 2
};

type MapShape = Pick<ScaleConfig, 'districts' | 'townsX' | 'townsY' | 'communities'>;
const communitiesOf = (m: MapShape): number => m.districts * m.townsX * m.townsY * m.communities;

/** The city's people (and couples) times k on a map of k times its communities, on its calendar: the
 * same mix, so a bigger place is more communities of the same size, as a province is. */
const cityTimes = (k: number, map: MapShape): ScaleConfig => {
  if (communitiesOf(map) !== communitiesOf(CITY) * k) throw new Error(`a map of ${k} × the city's communities is needed`);
  return {
    ...CITY,
    ...map,
    recipients: Math.round(CITY.recipients * k),
    insured: Math.round(CITY.insured * k),
    couples: Math.round(CITY.couples * k)
  };
};

export const SCALES: Record<Scale, ScaleConfig> = {
  tiny: {
    recipients: 600,
    insured: 1_500,
    districts: 3,
    townsX: 2,
    townsY: 1,
    communities: 3,
    months: 24,
    perRule: 3,
    sharedAccountGroups: 2,
    couples: 2,
    late: 3,
    policyPerKind: 2,
    explained: 2,
    sameDay: 2,
    withdrawnDeaths: 2,
    withdrawnCustody: 1
  },
  demo: {
    recipients: 20_000,
    insured: 46_000,
    districts: 8,
    townsX: 2,
    townsY: 2,
    communities: 5,
    months: 24,
    perRule: 10,
    sharedAccountGroups: 5,
    couples: 12,
    late: 8,
    policyPerKind: 3,
    explained: 4,
    sameDay: 3,
    withdrawnDeaths: 4,
    withdrawnCustody: 2
  },
  // 1/16 of the city — demo's number of people — in the city's mix: its people per community (50
  // communities), 36 months of payments, its planted cases. The small end of bench:scale's curve, so
  // that cost per row is compared between inputs of the same mix: demo's 24 months of payments make
  // payments a smaller share of its rows, and the city's 800 communities under demo's people would
  // make the indicator facts' work per area and month (the same for any number of people) a larger one.
  town: cityTimes(1 / 16, { districts: 5, townsX: 2, townsY: 1, communities: 5 }),
  city: CITY,
  // Three times the city (≈ 1 M recipients, 2,400 communities): the top of bench:scale's curve (issue 22).
  city3: cityTimes(3, { districts: 10, townsX: 4, townsY: 2, communities: 30 })
};

/** Alert roles map one-to-one to risk rules. */
export const RULE_OF_ROLE = {
  PAD: 'paid_after_death',
  PIC: 'paid_in_custody',
  DR: 'double_receipt',
  AA: 'abnormal_amount',
  SA: 'shared_account',
  PDA: 'post_death_activity',
  NSOL: 'no_sign_of_life'
} as const;

export const RULES = Object.values(RULE_OF_ROLE);

export type Role =
  | { kind: 'PAD'; k: number; ongoing: boolean }
  | { kind: 'PIC'; ongoing: boolean; futureEnd: boolean }
  | { kind: 'DR'; stillActive: boolean }
  | { kind: 'AA'; variant: number }
  | { kind: 'SA'; group: number }
  | { kind: 'PDA' }
  | { kind: 'NSOL'; variant: 'none' | 'weak_single' | 'weak_pair' | 'explicit' | 'stale_strong' }
  | { kind: 'COUPLE'; partner: number; primary: boolean }
  | { kind: 'AA_EXPLAINED' }
  | { kind: 'LATE' }
  | { kind: 'CORRECTION'; variant: number }
  | { kind: 'ENR_AGE80' | 'ENR_HARD' | 'RNE_AGE80' | 'RNE_HARD' | 'RNE_DIS' }
  | { kind: 'SAMEDAY' };

export interface SharedGroup {
  members: number[];
  account: string;
  periods: Month[];
}

export interface Plan {
  roles: Map<number, Role>;
  groups: SharedGroup[];
}

export function makePlan(seed: number, cfg: ScaleConfig, firstMonth: Month, lastMonth: Month): Plan {
  const rng = new Rng(seed, 'plan');
  const roles = new Map<number, Role>();
  const taken = new Set<number>();
  const take = (n: number): number[] => {
    const got = rng.distinct(n, 0, cfg.recipients - 1, taken);
    for (const g of got) taken.add(g);
    return got;
  };
  const n = cfg.perRule;
  take(n).forEach((i, k) => roles.set(i, { kind: 'PAD', k: 1 + (k % 4), ongoing: k === 0 }));
  take(n).forEach((i, k) => roles.set(i, { kind: 'PIC', ongoing: k % 2 === 0, futureEnd: k % 4 === 2 }));
  take(n).forEach((i, k) => roles.set(i, { kind: 'DR', stillActive: k === 0 }));
  take(n).forEach((i, k) => roles.set(i, { kind: 'AA', variant: k }));
  take(n).forEach((i) => roles.set(i, { kind: 'PDA' }));
  const nsolVariants = ['none', 'weak_single', 'weak_pair', 'explicit', 'stale_strong'] as const;
  take(n).forEach((i, k) => roles.set(i, { kind: 'NSOL', variant: nsolVariants[k % nsolVariants.length] }));

  const groups: SharedGroup[] = [];
  for (let g = 0; g < cfg.sharedAccountGroups; g++) {
    const members = take(3 + (g % 2));
    // Even groups: the last 2–4 months (still going on); odd groups: a closed episode mid-window.
    const len = 2 + (g % 3);
    const end = g % 2 === 0 ? lastMonth : firstMonth + 8 + (g % 5);
    const periods: Month[] = [];
    for (let m = end - len + 1; m <= end; m++) periods.push(m);
    const account = '6217000' + String(31_000_000 + seed * 101 + g * 7).padStart(12, '0');
    groups.push({ members, account, periods });
    for (const i of members) roles.set(i, { kind: 'SA', group: g });
  }
  for (let c = 0; c < cfg.couples; c++) {
    const [a, b] = take(2);
    const [p, q] = a < b ? [a, b] : [b, a];
    roles.set(p, { kind: 'COUPLE', partner: q, primary: true });
    roles.set(q, { kind: 'COUPLE', partner: p, primary: false });
  }
  take(cfg.explained).forEach((i) => roles.set(i, { kind: 'AA_EXPLAINED' }));
  take(cfg.late).forEach((i) => roles.set(i, { kind: 'LATE' }));
  take(4).forEach((i, k) => roles.set(i, { kind: 'CORRECTION', variant: k }));
  for (const kind of ['ENR_AGE80', 'ENR_HARD', 'RNE_AGE80', 'RNE_HARD', 'RNE_DIS'] as const) {
    take(cfg.policyPerKind).forEach((i) => roles.set(i, { kind }));
  }
  take(cfg.sameDay).forEach((i) => roles.set(i, { kind: 'SAMEDAY' }));
  return { roles, groups };
}
