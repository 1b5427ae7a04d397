// One person of the synthetic city, built in memory from (seed, index, role) alone: registry data,
// enrollments, the payment schedule, life events, evidence, certifications, hardship, subsidies,
// checkups and activities. Nothing here writes files; index.ts streams the result out.
import { makeIdNumber } from '../../core/domain/id-number.ts';
import { subsidyProjects } from '../../core/reference/index.ts';
import {
  addMonths,
  ageOn,
  dayFromParts,
  dayInMonth,
  firstDay,
  lastDay,
  monthOf,
  parts,
  yearOfMonth,
  type Day,
  type Month
} from './calendar.ts';
import { BUS_LINES, CITY_HOSPITALS, OUTSIDE_PLACES, PHARMACIES, RAIL_TRIPS, personName } from './names.ts';
import type { Plan, Role, Scale, ScaleConfig } from './plan.ts';
import { sampleCommunity, type Community, type RegionTree } from './regions.ts';
import { retirementMonth, type Basis } from './retirement.ts';
import { Rng, hash32 } from './rng.ts';
import { EXCLUSIVE, LENIENT, STRICT, certify, sameOutcome, type CertFacts } from './truth.ts';

export interface World {
  seed: number;
  scale: Scale;
  cfg: ScaleConfig;
  asOf: Day;
  asOfMonth: Month;
  firstMonth: Month;
  lastMonth: Month;
  /** First day evidence and certifications may be dated. */
  evStart: Day;
  /** as-of minus 12 months: "within the last 12 months" means a date after this day. */
  cutoff: Day;
  tree: RegionTree;
  plan: Plan;
  usedIds: Set<number>;
  counters: { enr: number };
}

export interface Enr {
  id: string;
  scheme: string;
  start: Month;
  /** Last month covered (inclusive) when the enrollment has ended. */
  end: Month | null;
  status: 'active' | 'suspended' | 'terminated';
  reason: string;
  account: string;
  yearFen: Map<number, number>;
  updated: Day;
  /** Suspended: no payments from this month on. */
  stopFrom: Month | null;
  spike?: { month: Month; fen: number };
  accountByMonth?: Map<Month, string>;
  /** Account the payments go to when it differs from the enrollment's current account_no. */
  payAccount?: string;
  /** Monthly amount written to the enrollments feed (when it differs from the last year's amount). */
  currentFen?: number;
}

export interface Pay {
  id: string;
  period: Month;
  scheme: string;
  fen: number;
  status: 'paid' | 'failed' | 'returned';
  account: string;
  day: Day;
  sec: number;
}
export interface Ev {
  day: Day;
  sec: number;
  source: string;
  kind: string;
  strong: boolean;
  region: string;
  detail: string;
}
export interface CertEv {
  day: Day;
  sec: number;
  method: string;
  pass: boolean;
  operator: string;
}
export interface DeathRec {
  source: string;
  recorded: Day;
  sec: number;
}
export interface Custody {
  start: Day;
  end: Day | null;
  source: string;
  recorded: Day;
}
export interface Hardship {
  kind: string;
  level: string;
  since: Day;
  until: Day | null;
}
export interface Payout {
  project: string;
  period: Month;
  fen: number;
}
export interface Checkup {
  hospital: string;
  booked: Day;
  attended: Day | null;
  sec: number;
  result: string;
}
export interface Signup {
  code: string;
  kind: 'activity' | 'education';
  signed: Day;
  attended: Day | null;
  sat: number | null;
}

export type Profile = 'A' | 'B' | 'E' | 'N';

export interface Person {
  idx: number;
  recipient: boolean;
  role: Role | undefined;
  id: string;
  /** The id as written in the persons feed (15-digit legacy or lower-case x sometimes). */
  idPersons: string;
  /** The id as written in evidence rows. */
  idEvidence: string;
  name: string;
  /** Correction role: the wrong name first delivered. */
  nameFirst?: string;
  sex: 'M' | 'F';
  birth: Day;
  phone: string;
  hukou: Community;
  residence: Community | null;
  outside: string | null;
  basis: Basis;
  retiredOn: Day | null;
  updatedAt: Day;
  enrollments: Enr[];
  payments: Pay[];
  death: { day: Day; records: DeathRec[] } | null;
  custody: Custody[];
  evidence: Ev[];
  certs: CertEv[];
  hardship: Hardship[];
  payouts: Payout[];
  checkups: Checkup[];
  signups: Signup[];
  profile: Profile | 'dead' | 'insured' | 'custody' | 'suspended';
  /** Evidence after the death date (post_death_activity role). */
  postDeath: Ev[];
}

// ---- tables --------------------------------------------------------------------------------------

const STRONG_KINDS: { kind: string; w: number; sources: [string, number][]; online?: boolean }[] = [
  {
    kind: 'outpatient_visit',
    w: 30,
    sources: [
      ['HEALTH_HIS', 6],
      ['MEDICAL_INSURANCE', 4]
    ]
  },
  {
    kind: 'hospital_admission',
    w: 6,
    sources: [
      ['HEALTH_HIS', 7],
      ['MEDICAL_INSURANCE', 3]
    ]
  },
  {
    kind: 'face_login',
    w: 14,
    sources: [
      ['GOV_APP', 7],
      ['PS_FACE', 3]
    ],
    online: true
  },
  { kind: 'bank_counter', w: 8, sources: [['BANK_COUNTER', 1]] },
  { kind: 'checkup_visit', w: 7, sources: [['CHECKUP_CENTER', 1]] },
  { kind: 'vaccination', w: 6, sources: [['VACCINATION', 1]] },
  { kind: 'activity_checkin', w: 5, sources: [['ACTIVITY_CENTER', 1]] },
  {
    kind: 'community_visit',
    w: 5,
    sources: [
      ['GRID_SYSTEM', 8],
      ['CIVIL_ASSIST', 1],
      ['PS_HOUSEHOLD', 1]
    ]
  },
  { kind: 'rail_ticket', w: 4, sources: [['RAILWAY', 1]], online: true },
  { kind: 'flight_ticket', w: 1.5, sources: [['AVIATION', 1]], online: true },
  { kind: 'travel_booking', w: 1.5, sources: [['TRAVEL_AGENCY', 1]], online: true },
  { kind: 'nursing_home_checkin', w: 0, sources: [['NURSING_HOME', 1]] }
];

/** Weak kinds: each comes from exactly one source, so "two sources" means two kinds. */
const WEAK_KINDS: [string, string, number][] = [
  ['bus_swipe', 'TRANSIT_CARD', 30],
  ['pharmacy_purchase', 'PHARMACY_NET', 22],
  ['utility_payment', 'UTILITY', 14],
  ['phone_topup', 'TELECOM', 12],
  ['citizen_card_purchase', 'CITIZEN_CARD', 12],
  ['library_loan', 'LIBRARY', 4],
  ['scenic_ticket', 'SCENIC_SPOT', 4]
];

const PAY_DAY: Record<string, number> = { ENT: 18, INS: 16, RES: 20, LLF: 20, VET: 22, CAD: 22, FPR: 17 };
const RAISE_RATE = [0.02, 0.025, 0.03];

const projectFen = new Map(subsidyProjects.map((p) => [p.code, Math.round(Number(p.amount) * 100)]));

const PROFILE_CUT = { A: 0.72, B: 0.86, E: 0.955 };

// ---- helpers -------------------------------------------------------------------------------------

function fenOfYuan(y: number): number {
  return Math.round(y * 100);
}

function raise(scheme: string, year: number, fen: number): number {
  switch (scheme) {
    case 'ENT':
    case 'INS':
      return Math.round(fen * (1 + RAISE_RATE[year % 3]));
    case 'RES':
      return fen + 1000;
    case 'LLF':
      return fen + 3000;
    case 'VET':
    case 'CAD':
      return year % 2 === 0 ? Math.round(fen * 1.03) : fen;
    default:
      return fen;
  }
}

export function accountFor(seed: number, idx: number): string {
  const n = (idx * 7919 + 104_729 + (seed % 1000) * 1_000_003) % 1_000_000_000_000;
  if (hash32(seed, 'acct-style', idx) % 10 === 0) {
    // Some banks deliver a hash instead of the number.
    return (hash32(seed, 'acct-hash', idx).toString(16).padStart(8, '0') + idx.toString(16).padStart(8, '0')).toUpperCase();
  }
  return '6228480' + String(n).padStart(12, '0');
}

function phoneNumber(rng: Rng): string {
  const r = rng.float();
  if (r < 0.05) return '';
  if (r < 0.1) return `0575-8${rng.int(1000000, 9999999)}`;
  return `1${rng.pick(['3', '5', '8', '9', '7'])}${rng.int(0, 9)}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
}

function recipientAge(rng: Rng): number {
  const band = rng.weighted<[number, number]>([
    [[55, 64], 10],
    [[65, 74], 9],
    [[75, 79], 3],
    [[80, 84], 2.25],
    [[85, 89], 1.4],
    [[90, 94], 0.6],
    [[95, 99], 0.15],
    [[100, 103], 0.02]
  ]);
  return rng.int(band[0], band[1]);
}

/** Annual death probability by age band (about 2.5% on average over the recipient pyramid). */
function annualMortality(age: number): number {
  if (age < 65) return 0.005;
  if (age < 75) return 0.012;
  if (age < 85) return 0.036;
  if (age < 95) return 0.1;
  return 0.22;
}

function frac(x: number): number {
  return x - Math.floor(x);
}

// ---- the builder ---------------------------------------------------------------------------------

export class PersonBuilder {
  private readonly w: World;
  private readonly rng: Rng;
  private readonly p: Person;
  private readonly clean: boolean;

  constructor(world: World, idx: number) {
    this.w = world;
    this.rng = new Rng(world.seed, 'person', idx);
    const role = world.plan.roles.get(idx);
    this.clean = role === undefined;
    this.p = {
      idx,
      recipient: idx < world.cfg.recipients,
      role,
      id: '',
      idPersons: '',
      idEvidence: '',
      name: '',
      sex: 'M',
      birth: 0,
      phone: '',
      hukou: world.tree.communities[0],
      residence: null,
      outside: null,
      basis: 'M60',
      retiredOn: null,
      updatedAt: 0,
      enrollments: [],
      payments: [],
      death: null,
      custody: [],
      evidence: [],
      certs: [],
      hardship: [],
      payouts: [],
      checkups: [],
      signups: [],
      profile: 'A',
      postDeath: []
    };
  }

  build(): Person {
    if (this.p.recipient) this.buildRecipient();
    else this.buildInsured();
    return this.p;
  }

  private roleKind(): string | undefined {
    return this.p.role?.kind;
  }

  // ---- registry ----

  private identity(region: Community): void {
    const { p, rng, w } = this;
    p.hukou = region;
    const r = rng.float();
    if (r < 0.03 && this.roleKind() !== 'CORRECTION') p.outside = rng.weighted(OUTSIDE_PLACES);
    else if (r < 0.11) {
      const other = sampleCommunity(w.tree, rng);
      if (other !== region) p.residence = other;
    }
    p.name = personName(rng, p.sex);
    p.phone = phoneNumber(rng);
    const bp = parts(p.birth);
    const d = region.district;
    let seq = rng.int(0, 449) * 2 + (p.sex === 'M' ? 1 : 0);
    for (let attempt = 0; ; attempt++) {
      const key = ((p.birth + 100_000) * 1000 + seq) * 16 + d.index;
      if (!w.usedIds.has(key)) {
        w.usedIds.add(key);
        break;
      }
      seq = (seq + 2) % 900;
      if (attempt > 450) throw new Error('identity sequence space exhausted');
    }
    p.id = makeIdNumber(d.code6, `${bp.y}-${String(bp.m).padStart(2, '0')}-${String(bp.d).padStart(2, '0')}`, seq);
    p.idPersons = p.id;
    p.idEvidence = p.id;
    const special = p.role !== undefined;
    if (!special && bp.y < 2000 && rng.chance(0.01)) p.idPersons = p.id.slice(0, 6) + p.id.slice(8, 17);
    else if (p.id.endsWith('X') && rng.chance(0.5)) p.idPersons = p.id.slice(0, 17) + 'x';
    if (p.id.endsWith('X') && rng.chance(0.5)) p.idEvidence = p.id.slice(0, 17) + 'x';
    p.updatedAt = w.asOf - rng.int(20, 700);
  }

  private birthForAge(age: number): Day {
    const { rng, w } = this;
    let birth = addMonths(w.asOf, -12 * (age + 1)) + rng.int(1, 364);
    // Keep birthdays that cross the 70/80/100 thresholds out of the as-of month, so "aged 80 or
    // more" never depends on whether a payout for the as-of month exists yet.
    const bp = parts(birth);
    const ap = parts(w.asOf);
    if ([70, 80, 100].includes(ap.y - bp.y) && bp.m === ap.m) birth -= 35;
    return birth;
  }

  // ---- recipients ----

  private buildRecipient(): void {
    const { p, rng, w } = this;
    const kind = this.roleKind();
    p.sex = kind === 'PIC' ? 'M' : rng.chance(0.46) ? 'M' : 'F';
    p.basis = p.sex === 'M' ? 'M60' : rng.chance(0.35) ? 'F55' : 'F50';
    const forcedAge: Record<string, [number, number]> = {
      NSOL: [100, 104],
      PIC: [58, 74],
      AA: [63, 78],
      AA_EXPLAINED: [63, 78],
      DR: [62, 80],
      SA: [63, 85],
      PAD: [72, 92],
      PDA: [72, 92],
      RNE_AGE80: [77, 78],
      ENR_AGE80: [82, 90],
      COUPLE: [62, 85]
    };
    // Schemes and retirement: resample until the pension has started by the last payment month.
    const needsOldStart = kind !== undefined && ['AA', 'AA_EXPLAINED', 'DR', 'SA', 'NSOL', 'PAD', 'PDA', 'PIC', 'COUPLE'].includes(kind);
    let scheme: string;
    let retM: number;
    let start: number;
    for (let attempt = 0; ; attempt++) {
      const range = kind ? forcedAge[kind] : undefined;
      const age = range ? rng.int(range[0], range[1]) : recipientAge(rng);
      p.birth = this.birthForAge(age);
      const realAge = ageOn(p.birth, w.asOf);
      scheme =
        kind === 'AA' || kind === 'AA_EXPLAINED' || kind === 'DR'
          ? 'ENT'
          : realAge < 60
            ? rng.chance(0.88)
              ? 'ENT'
              : 'INS'
            : rng.weighted([
                ['ENT', 72],
                ['INS', 10],
                ['RES', 14],
                ['LLF', 4]
              ]);
      if ((kind === 'PIC' || kind === 'NSOL' || kind === 'SA') && scheme !== 'ENT') scheme = rng.chance(0.7) ? 'ENT' : 'RES';
      // Women on F50 among retirees are those long retired (the brief keeps retirees 55+).
      if (p.basis === 'F50' && realAge < 56) p.basis = 'F55';
      const bm = monthOf(p.birth);
      retM = scheme === 'RES' || scheme === 'LLF' ? bm + 720 : retirementMonth(p.basis, bm);
      start = retM + 1;
      const okStart = needsOldStart ? start < w.firstMonth - 1 : start <= w.lastMonth - 1;
      if (okStart || attempt > 40) break;
    }
    p.retiredOn = dayInMonth(retM, parts(p.birth).d);
    this.identity(sampleCommunity(w.tree, rng));
    if (p.role?.kind === 'CORRECTION' && p.role.variant === 2) {
      // Delivered first with a wrong character, corrected later.
      p.nameFirst = p.name.slice(0, -1) + (p.name.endsWith('华') ? '花' : '华');
    }
    p.retiredOn = Math.min(p.retiredOn, w.asOf - 10);

    const account = this.accountOf();
    const primary = this.newEnrollment(scheme, start, account, this.baseFen(scheme));
    const enrs = [primary];
    const plain =
      this.clean || ['LATE', 'CORRECTION', 'ENR_AGE80', 'ENR_HARD', 'RNE_AGE80', 'RNE_HARD', 'RNE_DIS', 'SAMEDAY'].includes(kind ?? '');
    if (plain) {
      // Extras that stack on the pension.
      const age = ageOn(p.birth, w.asOf);
      if (rng.chance(p.sex === 'M' ? 0.04 : 0.005)) enrs.push(this.newEnrollment('VET', start, account, fenOfYuan(rng.int(40, 90) * 10)));
      if ((scheme === 'RES' || scheme === 'LLF') && rng.chance(0.08))
        enrs.push(this.newEnrollment('CAD', start, account, fenOfYuan(rng.int(30, 60) * 10)));
      if (age >= 62 && rng.chance(0.06)) enrs.push(this.newEnrollment('FPR', start, account, rng.chance(0.5) ? 10000 : 15000));
      // Clean scheme switchers: a resident pension replaced by an enterprise pension, no overlap.
      if (this.clean && scheme === 'ENT' && start < w.firstMonth && rng.chance(0.02)) {
        const m = w.firstMonth + rng.int(4, Math.max(5, w.lastMonth - w.firstMonth - 3));
        const res = this.newEnrollment('RES', start, account, fenOfYuan(rng.int(22, 65) * 10));
        res.end = m - 1;
        res.status = 'terminated';
        res.updated = firstDay(m) + rng.int(2, 9);
        primary.start = m;
        primary.yearFen = this.yearAmounts('ENT', fenOfYuan(rng.int(1800, 3000)), m);
        primary.updated = this.updatedFor(primary);
        enrs.unshift(res);
      }
    }
    p.enrollments = enrs;

    this.lifeEvents(primary);
    this.plantedPayments(primary);
    this.schedulePayments();
    this.makeEvidence();
    this.hardshipAndSubsidies(primary);
    this.checkupsAndActivities();
  }

  private accountOf(): string {
    const { p, w } = this;
    const role = p.role;
    if (role?.kind === 'COUPLE' && !role.primary) return accountFor(w.seed, role.partner);
    return accountFor(w.seed, p.idx);
  }

  private baseFen(scheme: string): number {
    const { rng } = this;
    switch (scheme) {
      case 'ENT': {
        const x = rng.float();
        return fenOfYuan(2500 + Math.round(3500 * x * x * 100) / 100);
      }
      case 'INS':
        return fenOfYuan(4500 + rng.int(0, 450_000) / 100);
      case 'RES':
        return fenOfYuan(rng.int(22, 65) * 10);
      case 'LLF':
        return fenOfYuan(rng.int(70, 130) * 10);
      default:
        return fenOfYuan(rng.int(30, 80) * 10);
    }
  }

  private yearAmounts(scheme: string, base: number, start: Month): Map<number, number> {
    const { w } = this;
    const y0 = Math.max(yearOfMonth(w.firstMonth), yearOfMonth(start));
    const out = new Map<number, number>();
    let fen = base;
    out.set(y0, fen);
    for (let y = y0 + 1; y <= yearOfMonth(w.lastMonth); y++) {
      if (start < y * 12) fen = raise(scheme, y, fen);
      out.set(y, fen);
    }
    return out;
  }

  private updatedFor(e: Enr): Day {
    const lastYear = yearOfMonth(this.w.lastMonth);
    const jan = lastYear * 12;
    if (e.start < jan && e.yearFen.get(lastYear) !== e.yearFen.get(lastYear - 1)) return firstDay(jan) + 4;
    return Math.max(firstDay(e.start) - 10, firstDay(this.w.firstMonth) - 400);
  }

  private newEnrollment(scheme: string, start: Month, account: string, base: number): Enr {
    const w = this.w;
    const id = 'EN' + String(++w.counters.enr).padStart(9, '0');
    const e: Enr = {
      id,
      scheme,
      start,
      end: null,
      status: 'active',
      reason: '',
      account,
      yearFen: this.yearAmounts(scheme, base, start),
      updated: 0,
      stopFrom: null
    };
    e.updated = this.updatedFor(e);
    return e;
  }

  private lifeEvents(primary: Enr): void {
    const { p, rng, w } = this;
    const kind = this.roleKind();
    const age = ageOn(p.birth, w.asOf);
    const windowStart = firstDay(w.firstMonth);
    const lateStart = Math.max(windowStart, firstDay(primary.start) + 40);

    // Deaths.
    let dies = false;
    let deathDay = 0;
    if (kind === 'PAD') {
      const role = p.role as Extract<Role, { kind: 'PAD' }>;
      const m = role.ongoing
        ? w.lastMonth - role.k
        : w.firstMonth + 3 + rng.int(0, Math.max(0, w.lastMonth - w.firstMonth - 3 - role.k - 2));
      deathDay = firstDay(m) + rng.int(4, 24);
      dies = true;
    } else if (kind === 'PDA') {
      deathDay = rng.int(Math.max(lateStart, w.evStart) + 30, w.asOf - 100);
      dies = true;
    } else if (this.clean && Math.min(w.asOf - 25, lastDay(w.lastMonth) - 3) > lateStart) {
      const years = (w.lastMonth - w.firstMonth + 1) / 12;
      if (rng.chance(annualMortality(age) * years)) {
        dies = true;
        deathDay = rng.int(lateStart, Math.min(w.asOf - 25, lastDay(w.lastMonth) - 3));
      }
    }
    if (dies) {
      // Never on the 1st or 2nd: "period starts after the death date" must not hinge on ≥ vs >.
      const dp = parts(deathDay);
      if (dp.d < 3) deathDay += 3 - dp.d;
      if (dp.d > 28) deathDay -= dp.d - 28;
      this.makeDeath(deathDay);
    }

    // Custody.
    if (kind === 'PIC') {
      const role = p.role as Extract<Role, { kind: 'PIC' }>;
      if (role.ongoing) {
        const start = this.domClamp(w.asOf - rng.int(100, 300));
        const end = role.futureEnd ? this.domClamp(w.asOf + rng.int(200, 600)) : null;
        p.custody.push({
          start,
          end,
          source: rng.pick(['prison', 'court', 'public_security']),
          recorded: Math.min(w.asOf - 3, start + rng.int(20, 60))
        });
      } else {
        const start = this.domClamp(rng.int(windowStart + 60, Math.max(windowStart + 61, w.asOf - 420)));
        const end = this.domClamp(Math.min(w.asOf - 70, start + rng.int(120, 300)));
        p.custody.push({ start, end, source: rng.pick(['prison', 'court']), recorded: start + rng.int(20, 60) });
      }
    } else if (this.clean && !dies) {
      const pr = p.sex === 'M' && age < 76 ? 0.004 : 0.0005;
      if (rng.chance(pr)) {
        const start = this.domClamp(rng.int(windowStart - 400, w.asOf - 60));
        let end: Day | null = null;
        const r = rng.float();
        if (r < 0.45) {
          end = this.domClamp(start + rng.int(120, 700));
          if (end > w.asOf - 60) end = r < 0.1 ? this.domClamp(w.asOf + rng.int(100, 900)) : null;
        } else if (r < 0.55) end = this.domClamp(w.asOf + rng.int(100, 900));
        p.custody.push({
          start,
          end,
          source: rng.pick(['prison', 'court', 'public_security']),
          recorded: Math.min(w.asOf - 3, start + rng.int(10, 60))
        });
      }
    }

    // Enrollment states that follow from the events.
    const c = p.custody[0];
    const ongoingCustody = c !== undefined && (c.end === null || c.end > w.asOf);
    for (const e of p.enrollments) {
      if (e.status === 'terminated') continue;
      if (p.death) {
        if (kind === 'PAD') continue; // handled in plantedPayments
        e.end = monthOf(p.death.day);
        e.status = 'terminated';
        e.updated = Math.min(w.asOf - 3, Math.max(firstDay(e.end + 1) + 2, this.firstRecord()));
      } else if (ongoingCustody && this.clean) {
        e.status = 'suspended';
        e.reason = 'imprisonment';
        e.stopFrom = monthOf(c.start) + 1;
        e.updated = c.recorded;
      } else if (c && this.clean && c.end !== null) {
        e.updated = Math.max(e.updated, c.end + 3);
      }
    }
    if (!p.death && !ongoingCustody && this.clean && !p.custody.length) {
      const profile = this.profileOf();
      if (profile === 'N' && rng.chance(0.25)) {
        const m = w.lastMonth - rng.int(0, 4);
        for (const e of p.enrollments)
          if (e.status === 'active')
            Object.assign(e, { status: 'suspended', reason: 'not_certified', stopFrom: m, updated: firstDay(m) + 2 });
        p.profile = 'suspended';
      } else if (rng.chance(0.001)) {
        const m = w.lastMonth - rng.int(0, 6);
        for (const e of p.enrollments)
          if (e.status === 'active')
            Object.assign(e, { status: 'suspended', reason: 'bank_account_invalid', stopFrom: m, updated: firstDay(m) + 5 });
        p.profile = 'suspended';
      }
    }
  }

  private domClamp(d: Day): Day {
    const dp = parts(d);
    if (dp.d < 5) return d + (5 - dp.d);
    if (dp.d > 25) return d - (dp.d - 25);
    return d;
  }

  private firstRecord(): Day {
    return this.p.death ? Math.min(...this.p.death.records.map((r) => r.recorded)) : Infinity;
  }

  private makeDeath(deathDay: Day): void {
    const { p, rng, w } = this;
    const kind = this.roleKind();
    const sources: [string, number][] = [
      ['public_security', 45],
      ['health', 35],
      ['civil_affairs', 18],
      ['court', 2]
    ];
    const first = rng.weighted(sources);
    const lag = (src: string): number => {
      if (src === 'court') return rng.int(150, 400);
      const r = rng.float();
      return r < 0.55 ? rng.int(2, 25) : r < 0.9 ? rng.int(26, 100) : rng.int(101, 240);
    };
    const records: DeathRec[] = [];
    if (kind === 'PAD') {
      const role = p.role as Extract<Role, { kind: 'PAD' }>;
      const lastPaid = monthOf(deathDay) + role.k;
      let recorded = dayInMonth(lastPaid, rng.int(21, 27));
      if (role.ongoing) recorded = Math.max(firstDay(w.asOfMonth), w.asOf - rng.int(3, 6));
      if (recorded > w.asOf - 3) recorded = dayInMonth(lastPaid, 23);
      records.push({ source: rng.pick(['civil_affairs', 'public_security', 'health']), recorded, sec: rng.int(32400, 61200) });
    } else {
      records.push({ source: first, recorded: Math.min(w.asOf - 3, deathDay + lag(first)), sec: rng.int(32400, 61200) });
      if (rng.chance(0.3)) {
        const second = rng.weighted(sources.filter(([s]) => s !== first));
        records.push({ source: second, recorded: Math.min(w.asOf - 3, deathDay + lag(second)), sec: rng.int(32400, 61200) });
      }
    }
    for (const r of records) r.recorded = Math.max(r.recorded, deathDay + 1);
    p.death = { day: deathDay, records };
  }

  /** Role-specific deviations from the clean payment schedule. */
  private plantedPayments(primary: Enr): void {
    const { p, rng, w } = this;
    const role = p.role;
    if (!role) return;
    switch (role.kind) {
      case 'PAD': {
        const dm = monthOf(p.death!.day);
        for (const e of p.enrollments) {
          if (role.ongoing) {
            e.end = null;
            e.status = 'active';
          } else {
            e.end = dm + role.k;
            e.status = 'terminated';
            e.updated = this.firstRecord() + rng.int(1, 6);
          }
        }
        break;
      }
      case 'DR': {
        const scheme = rng.chance(0.7) ? 'RES' : 'LLF';
        const sm = w.firstMonth + 2 + rng.int(0, Math.max(0, w.lastMonth - w.firstMonth - 9));
        const second = this.newEnrollment(
          scheme,
          sm,
          primary.account,
          fenOfYuan((scheme === 'RES' ? rng.int(22, 60) : rng.int(70, 120)) * 10)
        );
        if (!role.stillActive) {
          second.end = sm + rng.int(1, 5);
          second.status = 'terminated';
          second.updated = firstDay(second.end + 1) + rng.int(2, 9);
        }
        p.enrollments.push(second);
        break;
      }
      case 'AA': {
        const lastYear = yearOfMonth(w.lastMonth);
        const candidates: Month[] = [];
        for (let m = w.firstMonth + 6; m <= w.lastMonth; m++) {
          const mn = (m % 12) + 1;
          if (mn >= 7 && yearOfMonth(m - 6) === yearOfMonth(m)) candidates.push(m);
        }
        const sp = candidates[(role.variant * 5 + rng.int(0, 3)) % candidates.length];
        const n = [2000, 2500, 3000, 3500, 4000, 4500][rng.int(0, 5)] * 100;
        const spikeYear = yearOfMonth(sp);
        for (const y of primary.yearFen.keys()) primary.yearFen.set(y, n - 6000 * (spikeYear - y));
        const factor = [1.5, 1.3, 1.6, 2][role.variant % 4];
        primary.spike = { month: sp, fen: Math.round(primary.yearFen.get(spikeYear)! * factor) };
        primary.updated = firstDay(lastYear * 12) + 4;
        break;
      }
      case 'AA_EXPLAINED': {
        // A recalculated pension: the payment jumps 30% in the last month and the enrollment was
        // updated that month with the new amount — the rule must NOT fire.
        const n = [2200, 2800, 3300][rng.int(0, 2)] * 100;
        for (const y of primary.yearFen.keys()) primary.yearFen.set(y, n);
        const newFen = Math.round(n * 1.3);
        primary.spike = { month: w.lastMonth, fen: newFen };
        primary.currentFen = newFen;
        primary.updated = firstDay(w.lastMonth) + rng.int(2, 7);
        break;
      }
      case 'SA': {
        const g = w.plan.groups[role.group];
        primary.accountByMonth = new Map(g.periods.map((m) => [m, g.account]));
        if (g.periods.includes(w.lastMonth)) {
          primary.payAccount = primary.account;
          primary.account = g.account;
        }
        break;
      }
      default:
        break;
    }
  }

  private schedulePayments(): void {
    const { p, rng, w } = this;
    const plantedPIC = this.roleKind() === 'PIC';
    const noFailures = !this.clean;
    for (const e of p.enrollments) {
      const from = Math.max(e.start, w.firstMonth);
      const to = Math.min(e.end ?? w.lastMonth, w.lastMonth);
      const enrNo = e.id.slice(2);
      for (let m = from; m <= to; m++) {
        if (e.stopFrom !== null && m >= e.stopFrom) break;
        if (!plantedPIC && p.custody.some((c) => firstDay(m) >= c.start && (c.end === null || lastDay(m) <= c.end))) continue;
        const fen = e.spike?.month === m ? e.spike.fen : e.yearFen.get(yearOfMonth(m))!;
        const account = e.accountByMonth?.get(m) ?? e.payAccount ?? e.account;
        const pid = `PM${yearOfMonth(m)}${String((m % 12) + 1).padStart(2, '0')}${enrNo}`;
        const day = dayInMonth(m, PAY_DAY[e.scheme]);
        const sec = 32400 + rng.int(0, 3600);
        let status: Pay['status'] = 'paid';
        if (!noFailures && rng.chance(0.0025)) {
          status = rng.chance(0.6) ? 'failed' : 'returned';
        }
        // Bank account invalid: the last payment before suspension bounced.
        if (e.reason === 'bank_account_invalid' && m === (e.stopFrom ?? 0) - 1) status = 'returned';
        p.payments.push({ id: pid, period: m, scheme: e.scheme, fen, status, account, day, sec });
        if (status !== 'paid' && e.reason !== 'bank_account_invalid' && rng.chance(0.6)) {
          p.payments.push({ id: pid + 'R', period: m, scheme: e.scheme, fen, status: 'paid', account, day: dayInMonth(m, 28), sec: 36000 });
        }
      }
    }
  }

  // ---- evidence and certification ----

  private profileOf(): Profile {
    const u = frac((this.p.idx + 1) * 0.6180339887498949 + frac(this.w.seed * 0.7548776662466927));
    return u < PROFILE_CUT.A ? 'A' : u < PROFILE_CUT.B ? 'B' : u < PROFILE_CUT.E ? 'E' : 'N';
  }

  private makeEvidence(): void {
    const { p, w } = this;
    const kind = this.roleKind();
    const age = ageOn(p.birth, w.asOf);
    let profile: Profile = this.profileOf();
    if (p.death) p.profile = 'dead';
    else if (p.custody.length && (p.custody[0].end === null || p.custody[0].end > w.asOf)) p.profile = 'custody';
    else if (p.profile !== 'suspended') {
      if (age >= 100 && kind !== 'NSOL') profile = 'A';
      if (p.custody.length) profile = 'A';
      if (kind === 'SAMEDAY') profile = 'A';
      if (kind === 'NSOL') {
        const v = (p.role as Extract<Role, { kind: 'NSOL' }>).variant;
        profile = v === 'weak_pair' ? 'B' : v === 'explicit' ? 'E' : 'N';
      }
      p.profile = profile;
    } else profile = 'N';

    const facts = (): CertFacts => ({
      evidence: p.evidence,
      explicit: p.certs.map((c) => ({ day: c.day, method: c.method, pass: c.pass })),
      deathDay: p.death?.day ?? null,
      ongoingCustody: p.custody.some((c) => c.end === null || c.end > w.asOf),
      pastCustodyEnds: p.custody.filter((c) => c.end !== null && c.end <= w.asOf).map((c) => c.end!)
    });
    for (let attempt = 0; attempt < 12; attempt++) {
      const rng = new Rng(w.seed, 'evidence', p.idx, attempt);
      p.evidence = [];
      p.certs = [];
      p.postDeath = [];
      if (attempt === 11) this.fallbackEvidence(profile);
      else if (p.death) this.deadEvidence(rng);
      else if (p.profile === 'custody') this.generic(rng, 'A', p.custody[0].start - 1);
      else this.generic(rng, profile, w.asOf - 3);
      const f = facts();
      if (sameOutcome(certify(f, w.asOf, STRICT), certify(f, w.asOf, LENIENT))) break;
      if (attempt === 11) throw new Error(`cannot make unambiguous evidence for person ${p.idx}`);
    }
    p.evidence.sort((a, b) => a.day - b.day || a.sec - b.sec);
    p.certs.sort((a, b) => a.day - b.day || a.sec - b.sec);
  }

  private fallbackEvidence(profile: Profile): void {
    const { w, p } = this;
    if (profile === 'A' || profile === 'B') p.evidence.push(this.ev(new Rng(w.seed, 'fallback', p.idx), 'strong', w.asOf - 40));
  }

  private blocked(d: Day): boolean {
    const { w, p } = this;
    if (d >= w.cutoff - 3 && d <= w.cutoff + 3) return true;
    for (const c of p.custody) if (d >= c.start - 1 && (c.end === null || d <= c.end + 1)) return true;
    return false;
  }

  private sampleDay(rng: Rng, lo: Day, hi: Day): Day | null {
    lo = Math.max(lo, this.w.evStart);
    if (hi < lo) return null;
    for (let i = 0; i < 30; i++) {
      const d = rng.int(lo, hi);
      if (!this.blocked(d)) return d;
    }
    return null;
  }

  private strongKind(rng: Rng): { kind: string; source: string } {
    const { p, w } = this;
    const age = ageOn(p.birth, w.asOf);
    const outside = p.outside !== null;
    const table = STRONG_KINDS.map((k) => {
      let wt = k.w;
      if (k.kind === 'nursing_home_checkin') wt = age >= 85 ? 8 : 0;
      if (age >= 85 && ['rail_ticket', 'flight_ticket', 'travel_booking', 'activity_checkin'].includes(k.kind)) wt *= 0.2;
      if (age >= 85 && k.kind === 'community_visit') wt *= 3;
      if (outside) wt = k.online ? wt * 4 : wt * 0.3;
      return [k, wt] as const;
    });
    const k = rng.weighted(table);
    return { kind: k.kind, source: rng.weighted(k.sources) };
  }

  private ev(rng: Rng, strength: 'strong' | string, d: Day): Ev {
    const { p } = this;
    let kind: string;
    let source: string;
    let strong: boolean;
    if (strength === 'strong') {
      ({ kind, source } = this.strongKind(rng));
      strong = true;
    } else {
      kind = strength;
      source = WEAK_KINDS.find((k) => k[0] === strength)![1];
      strong = false;
    }
    const home = p.residence ?? p.hukou;
    const online = ['face_login', 'rail_ticket', 'flight_ticket', 'travel_booking', 'phone_topup'].includes(kind);
    const region =
      online || p.outside
        ? ''
        : rng.chance(0.85)
          ? home.code
          : this.w.tree.communities[rng.int(0, this.w.tree.communities.length - 1)].code;
    let detail = '';
    if (rng.chance(0.4)) {
      if (source === 'HEALTH_HIS' || source === 'MEDICAL_INSURANCE') detail = rng.pick(CITY_HOSPITALS);
      else if (kind === 'bus_swipe') detail = rng.pick(BUS_LINES);
      else if (kind === 'pharmacy_purchase') detail = rng.pick(PHARMACIES);
      else if (kind === 'rail_ticket') detail = rng.pick(RAIL_TRIPS);
    }
    return { day: d, sec: rng.int(8 * 3600, 20 * 3600 + 3599), source, kind, strong, region, detail };
  }

  private pushEv(rng: Rng, strength: string, d: Day | null): void {
    if (d === null) return;
    const e = this.ev(rng, strength, d);
    this.p.evidence.push(e);
    if (e.kind === 'hospital_admission') {
      const dis = d + rng.int(2, 12);
      if (dis <= this.w.asOf - 3 && !this.blocked(dis) && (!this.p.death || dis < this.p.death.day)) {
        this.p.evidence.push({ ...e, day: dis, kind: 'hospital_discharge', source: 'HEALTH_HIS', sec: rng.int(32400, 57600) });
      }
    }
  }

  private weakKind(rng: Rng, not: string[] = []): string {
    return rng.weighted(WEAK_KINDS.filter((k) => !not.includes(k[0])).map((k) => [k[0], k[2]] as const));
  }

  private cert(rng: Rng, d: Day | null, pass: boolean, method?: string): void {
    if (d === null) return;
    const { p } = this;
    const m =
      method ??
      (p.outside
        ? rng.weighted([
            ['face_online', 9],
            ['counter', 1]
          ])
        : rng.weighted([
            ['face_online', 55],
            ['field_visit', 18],
            ['counter', 15],
            ['kiosk', 12]
          ]));
    const community = (p.residence ?? p.hukou).code;
    const operator =
      m === 'face_online'
        ? 'GOV_APP'
        : m === 'kiosk'
          ? `KIOSK-${community.slice(6)}`
          : m === 'counter'
            ? `窗口${rng.int(1, 12)}号`
            : `网格员${community.slice(-3)}-${rng.int(1, 9)}`;
    p.certs.push({ day: d, sec: rng.int(8 * 3600, 18 * 3600), method: m, pass, operator });
  }

  /** Evidence and explicit certifications for a living person, by profile, dated up to `hi`. */
  private generic(rng: Rng, profile: Profile, hi: Day): void {
    const { w, p } = this;
    const C = w.cutoff;
    let recentLo = C + 4;
    const oldLo = w.evStart;
    const oldHi = C - 4;
    const released = p.custody.find((c) => c.end !== null && c.end <= w.asOf);
    if (released) recentLo = Math.max(recentLo, released.end! + 5);
    const kind = this.roleKind();
    const anyDay = () => this.sampleDay(rng, oldLo, hi);
    const weakNoise = (n: number) => {
      const kinds: string[] = [];
      for (let i = 0; i < n; i++) kinds.push(this.weakKind(rng, kinds));
      for (const k of kinds)
        for (let i = rng.int(1, 6); i > 0; i--) this.pushEv(rng, k, released ? this.sampleDay(rng, released.end! + 5, hi) : anyDay());
    };
    switch (profile) {
      case 'A': {
        const n = 1 + rng.geometric(0.5, 6);
        let maxStrong = -1;
        for (let i = 0; i < n; i++) {
          const d = this.sampleDay(rng, recentLo, hi);
          this.pushEv(rng, 'strong', d);
          if (d !== null) maxStrong = Math.max(maxStrong, d);
        }
        for (let i = rng.geometric(0.45, 6); i > 0; i--) this.pushEv(rng, 'strong', this.sampleDay(rng, oldLo, Math.min(oldHi, hi)));
        if (kind === 'SAMEDAY') {
          const top = Math.max(...p.evidence.filter((e) => e.strong).map((e) => e.day));
          this.cert(rng, top, true, rng.pick(['counter', 'kiosk']));
        } else {
          if (rng.chance(0.55)) weakNoise(rng.int(1, 3));
          if (rng.chance(0.12)) this.cert(rng, this.sampleDay(rng, oldLo, oldHi), true);
        }
        break;
      }
      case 'B': {
        if (rng.chance(0.4)) this.pushEv(rng, 'strong', this.sampleDay(rng, oldLo, oldHi));
        const k1 = this.weakKind(rng);
        const k2 = this.weakKind(rng, [k1]);
        const a = this.sampleDay(rng, recentLo, hi - 62);
        if (a !== null) {
          this.pushEv(rng, k1, a);
          const b = a + rng.int(2, 60);
          this.pushEv(rng, k2, this.blocked(b) ? null : b);
        }
        for (let i = rng.int(0, 3); i > 0; i--) this.pushEv(rng, k1, anyDay());
        for (let i = rng.int(0, 3); i > 0; i--) this.pushEv(rng, k2, anyDay());
        if (rng.chance(0.3)) {
          const k3 = this.weakKind(rng, [k1, k2]);
          for (let i = rng.int(1, 3); i > 0; i--) this.pushEv(rng, k3, anyDay());
        }
        if (rng.chance(0.1)) this.cert(rng, this.sampleDay(rng, oldLo, oldHi), true);
        break;
      }
      case 'E': {
        const sub = rng.int(1, 3);
        if (sub === 2) {
          const k = this.weakKind(rng);
          for (let i = rng.int(1, 8); i > 0; i--) this.pushEv(rng, k, anyDay());
        } else if (sub === 3) {
          for (let i = rng.int(1, 3); i > 0; i--) this.pushEv(rng, 'strong', this.sampleDay(rng, oldLo, oldHi));
          if (rng.chance(0.5)) {
            const k = this.weakKind(rng);
            for (let i = rng.int(1, 4); i > 0; i--) this.pushEv(rng, k, anyDay());
          }
        }
        const pass = this.sampleDay(rng, recentLo, hi);
        if (pass !== null && rng.chance(0.2)) {
          const fail = this.sampleDay(rng, pass - 20, pass - 1);
          this.cert(rng, fail, false, 'face_online');
          this.cert(rng, pass, true, rng.pick(['counter', 'field_visit', 'kiosk']));
        } else this.cert(rng, pass, true);
        break;
      }
      case 'N': {
        const variant = kind === 'NSOL' ? (p.role as Extract<Role, { kind: 'NSOL' }>).variant : undefined;
        const sub = variant === 'none' ? 0 : variant === 'weak_single' ? 4 : variant === 'stale_strong' ? 1 : rng.int(0, 6);
        if (sub === 1) for (let i = rng.int(1, 3); i > 0; i--) this.pushEv(rng, 'strong', this.sampleDay(rng, oldLo, oldHi));
        else if (sub === 2) this.pushEv(rng, this.weakKind(rng), anyDay());
        else if (sub === 3) {
          const k1 = this.weakKind(rng);
          const k2 = this.weakKind(rng, [k1]);
          for (let i = rng.int(1, 3); i > 0; i--) this.pushEv(rng, k1, this.sampleDay(rng, C + 8, C + 40));
          for (let i = rng.int(1, 3); i > 0; i--) this.pushEv(rng, k2, this.sampleDay(rng, C + 160, hi));
        } else if (sub === 4) {
          const k = this.weakKind(rng);
          for (let i = rng.int(2, 6); i > 0; i--) this.pushEv(rng, k, anyDay());
        } else if (sub === 5) {
          for (let i = rng.int(1, 2); i > 0; i--) this.cert(rng, this.sampleDay(rng, recentLo, hi), false);
        } else if (sub === 6) this.cert(rng, this.sampleDay(rng, oldLo, oldHi), true);
        break;
      }
    }
    // Planted NSOL people never have recent strong evidence (variant 'explicit' / 'weak_pair' included).
    if (kind === 'NSOL') p.evidence = p.evidence.filter((e) => !(e.strong && e.day > C - 4));
  }

  private deadEvidence(rng: Rng): void {
    const { p, w } = this;
    const death = p.death!.day;
    const hi = Math.min(w.asOf - 3, death - 1);
    const n = rng.int(0, 5);
    for (let i = 0; i < n; i++) this.pushEv(rng, 'strong', this.sampleDay(rng, w.evStart, hi));
    if (rng.chance(0.4)) {
      const k = this.weakKind(rng);
      for (let i = rng.int(1, 5); i > 0; i--) this.pushEv(rng, k, this.sampleDay(rng, w.evStart, hi));
    }
    // Discharges must not land after the death.
    p.evidence = p.evidence.filter((e) => e.day < death);
    if (rng.chance(0.3)) {
      const d = this.sampleDay(rng, death - 10, death - 1);
      if (d !== null) p.evidence.push({ ...this.ev(rng, 'strong', d), kind: 'hospital_admission', source: 'HEALTH_HIS' });
    }
    if (this.roleKind() === 'PDA') {
      // Somebody keeps using the dead person's card or face.
      for (let i = rng.int(1, 3); i > 0; i--) {
        const d = rng.int(death + 5, Math.min(death + 90, w.asOf - 3));
        const k = rng.weighted([
          ['bus_swipe', 5],
          ['pharmacy_purchase', 3],
          ['citizen_card_purchase', 2],
          ['strong', 2]
        ] as const);
        const e = this.ev(rng, k, d);
        if (k === 'strong') Object.assign(e, { kind: 'face_login', source: 'GOV_APP', region: '' });
        p.evidence.push(e);
        p.postDeath.push(e);
      }
    }
  }

  // ---- subsidies ----

  private hardshipAndSubsidies(primary: Enr): void {
    const { p, rng, w } = this;
    const kind = this.roleKind();
    const plantedAlert = kind !== undefined && ['PAD', 'PIC', 'DR', 'AA', 'SA', 'PDA', 'NSOL', 'AA_EXPLAINED'].includes(kind);
    const hs = (kindName: string, level: string, since: Day, until: Day | null) => p.hardship.push({ kind: kindName, level, since, until });
    const pastSince = () => rng.int(w.asOf - 2900, w.asOf - 60);
    const endedUntil = (since: Day) => (since + 200 < w.asOf - 60 ? rng.int(since + 200, w.asOf - 60) : null);
    if (kind === 'ENR_HARD') hs('minimum_living', '', w.asOf - rng.int(300, 500), null);
    else if (kind === 'RNE_HARD') hs('minimum_living', '', w.asOf - rng.int(700, 900), w.asOf - rng.int(140, 160));
    else if (kind === 'RNE_DIS') hs('disability', '3', w.asOf - rng.int(900, 2000), null);
    else if (!plantedAlert) {
      const r = rng.float();
      if (r < 0.018) {
        const since = pastSince();
        hs('minimum_living', '', since, rng.chance(0.25) ? endedUntil(since) : rng.chance(0.1) ? w.asOf + rng.int(90, 400) : null);
      } else if (r < 0.022) hs('extreme_poverty', '', pastSince(), null);
      else if (r < 0.037) {
        const since = pastSince();
        hs('low_income', '', since, rng.chance(0.3) ? endedUntil(since) : null);
      }
      if (rng.chance(0.035))
        hs(
          'disability',
          rng.weighted([
            ['1', 15],
            ['2', 25],
            ['3', 30],
            ['4', 30]
          ]),
          rng.int(w.asOf - 7000, w.asOf - 60),
          null
        );
    }

    // Months the person is in payment (the primary pension scheduled), before the death month.
    const months = new Set(p.payments.filter((x) => x.scheme === primary.scheme).map((x) => x.period));
    const deathM = p.death ? monthOf(p.death.day) : Infinity;
    const ordered = [...months].filter((m) => m < deathM).sort((a, b) => a - b);
    const activeIn = (h: Hardship, m: Month) => monthOf(h.since) < m && (h.until === null || monthOf(h.until) > m);
    const livesAlone = hash32(w.seed, 'alone', p.idx) % 4 === 0;
    const disability = p.hardship.find((h) => h.kind === 'disability');
    for (const m of ordered) {
      const age80 = addMonths(p.birth, 960) <= lastDay(m);
      const age70 = addMonths(p.birth, 840) <= lastDay(m);
      if ((age80 && kind !== 'ENR_AGE80') || kind === 'RNE_AGE80')
        p.payouts.push({ project: 'AGE80', period: m, fen: projectFen.get('AGE80')! });
      const hard = p.hardship.find(
        (h) => (h.kind === 'minimum_living' || h.kind === 'extreme_poverty') && (activeIn(h, m) || kind === 'RNE_HARD')
      );
      if (hard && kind !== 'ENR_HARD' && (kind !== 'RNE_HARD' || monthOf(hard.since) < m))
        p.payouts.push({ project: 'HARD', period: m, fen: projectFen.get('HARD')! });
      if (disability && activeIn(disability, m) && (disability.level === '1' || disability.level === '2' || kind === 'RNE_DIS'))
        p.payouts.push({ project: 'DIS', period: m, fen: projectFen.get('DIS')! });
      if ((age80 && livesAlone) || (age70 && disability && activeIn(disability, m)))
        p.payouts.push({ project: 'CARE', period: m, fen: projectFen.get('CARE')! });
    }
    const needy = p.hardship.some((h) => h.kind !== 'disability');
    if (needy) {
      for (const e of p.evidence) {
        if (e.kind !== 'hospital_admission') continue;
        const m = monthOf(e.day) + 1;
        if (ordered.includes(m) && !p.payouts.some((x) => x.project === 'HOSP' && x.period === m))
          p.payouts.push({ project: 'HOSP', period: m, fen: projectFen.get('HOSP')! });
      }
    }
  }

  private checkupsAndActivities(): void {
    const { p, rng, w } = this;
    const hospitalFor = () =>
      rng.chance(0.5) ? rng.pick(CITY_HOSPITALS) : `${p.hukou.town.name.replace(/(镇|街道)$/, '')}社区卫生服务中心`;
    for (const e of p.evidence) {
      if (e.kind === 'checkup_visit') {
        const result =
          e.day > w.asOf - 20 && rng.chance(0.5)
            ? 'pending'
            : rng.weighted([
                ['normal', 70],
                ['abnormal', 27],
                ['pending', 0]
              ]);
        p.checkups.push({ hospital: hospitalFor(), booked: e.day, attended: e.day, sec: e.sec, result });
      } else if (e.kind === 'activity_checkin') {
        const edu = rng.chance(0.3);
        const y = parts(e.day).y;
        const code = edu ? `EDU-${y}-${String(rng.int(1, 24)).padStart(2, '0')}` : `ACT-${y}-${String(rng.int(1, 80)).padStart(3, '0')}`;
        const sat = rng.weighted([
          [5, 45],
          [4, 35],
          [3, 12],
          [2, 5],
          [1, 3]
        ]);
        p.signups.push({ code, kind: edu ? 'education' : 'activity', signed: e.day - rng.int(3, 20), attended: e.day, sat });
      }
    }
    const alive = !p.death && p.profile !== 'custody';
    if (rng.chance(0.025)) {
      const d = this.sampleDay(rng, w.evStart, (p.death?.day ?? w.asOf) - 5);
      if (d !== null) p.checkups.push({ hospital: hospitalFor(), booked: d, attended: null, sec: 0, result: '' });
    }
    if (alive && rng.chance(0.03))
      p.checkups.push({ hospital: hospitalFor(), booked: w.asOf + rng.int(3, 45), attended: null, sec: 0, result: '' });
    if (rng.chance(0.03)) {
      const d = this.sampleDay(rng, w.evStart, (p.death?.day ?? w.asOf) - 5);
      if (d !== null)
        p.signups.push({
          code: `ACT-${parts(d).y}-${String(rng.int(1, 80)).padStart(3, '0')}`,
          kind: 'activity',
          signed: d - rng.int(3, 20),
          attended: null,
          sat: null
        });
    }
    if (alive && rng.chance(0.02)) {
      p.signups.push({
        code: `EDU-${parts(w.asOf).y + 1}-${String(rng.int(1, 24)).padStart(2, '0')}`,
        kind: 'education',
        signed: w.asOf - rng.int(3, 30),
        attended: null,
        sat: null
      });
    }
  }

  // ---- insured ----

  private buildInsured(): void {
    const { p, rng, w } = this;
    p.profile = 'insured';
    p.sex = rng.chance(0.52) ? 'M' : 'F';
    p.basis = p.sex === 'M' ? 'M60' : rng.chance(0.35) ? 'F55' : 'F50';
    for (let attempt = 0; ; attempt++) {
      const age = rng.weighted([
        [[40, 49], 10],
        [[50, 55], 7],
        [[56, 62], 5]
      ] as const);
      p.birth = this.birthForAge(rng.int(age[0], age[1]));
      const off = retirementMonth(p.basis, monthOf(p.birth)) - w.asOfMonth;
      if ((off >= 1 && off !== 12) || attempt > 60) break;
      if (attempt > 30 && p.basis === 'F50') p.basis = 'F55';
    }
    this.identity(sampleCommunity(w.tree, rng));
    if (rng.chance(0.25)) {
      const r2 = new Rng(w.seed, 'evidence', p.idx, 0);
      for (let i = r2.int(1, 4); i > 0; i--)
        this.pushEv(r2, r2.chance(0.5) ? 'strong' : this.weakKind(r2), this.sampleDay(r2, w.evStart, w.asOf - 3));
      p.evidence.sort((a, b) => a.day - b.day || a.sec - b.sec);
    }
  }
}

export function isActiveRecipient(p: Person): boolean {
  return p.recipient && p.enrollments.some((e) => EXCLUSIVE.has(e.scheme) && e.status === 'active');
}

export function birthFromId(id: string): Day {
  return dayFromParts(Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14)));
}
