// The payroll draft of the month after the data window (the as-of month; docs/feeds.md payroll_draft), with
// one planted problem per finding of the pre-payroll check: a dead person, someone in custody, a suspended
// person, an uncertified person, a double receipt, an abnormal amount and a shared account (3 people).
// Every other line belongs to a clean recipient — alive, free, certified, every enrollment active, its
// amount last month's paid amount — so nothing else may be found. The expected findings are computed
// for every line by truth.ts (draftLineFinding, independent of the engine's SQL) plus the cross-line rules
// here, and the generator stops if they differ from the plan.
import { addMonths, firstDay, fmtMonth, fmtTs, monthOf, yearOfMonth, type Day, type Month } from './calendar.ts';
import type { CsvFile } from './csv-writer.ts';
import type { Person, World } from './person.ts';
import { isActiveRecipient } from './person.ts';
import {
  AmbiguityError,
  EXCLUSIVE,
  LENIENT,
  NOMINAL,
  STRICT,
  certify,
  draftLineFindings,
  type DraftFinding,
  type DraftLineFacts,
  type DraftPersonFacts,
  type Variant
} from './truth.ts';

export const PAYROLL_COLUMNS = ['draft_id', 'line_id', 'id_number', 'scheme_code', 'period', 'amount', 'account_no', 'bank', 'prepared_at'];

export type Planted = 'dead' | 'in_custody' | 'suspended' | 'not_certified' | 'double_receipt' | 'abnormal_amount' | 'shared_account';
const PLANTS: readonly Planted[] = [
  'dead',
  'in_custody',
  'suspended',
  'not_certified',
  'double_receipt',
  'abnormal_amount',
  'shared_account'
];

export interface PayrollFindingTruth {
  line_id: string;
  id_number: string;
  scheme_code: string;
  amount: string;
  finding: string;
  amount_at_risk: string;
  held: boolean;
}
export interface PayrollTruth {
  period: string;
  draft_id: string;
  prepared_at: string;
  lines: number;
  people: number;
  amount: string;
  /** Every finding the check must report — exactly these. */
  findings: PayrollFindingTruth[];
  /** The person of each planted problem. */
  planted: Record<Planted, string[]>;
  held_lines: number;
  held_amount: string;
  diff: {
    new_payee: { id_number: string; scheme_code: string; draft_amount: string }[];
    amount_changed: { id_number: string; scheme_code: string; previous_amount: string; draft_amount: string }[];
    dropped_payee_count: number;
  };
}

interface Line {
  lineId: string;
  id: string;
  scheme: string;
  fen: number;
  account: string;
  findings: DraftFinding[];
  plant: Planted | null;
  /** The findings the check must report on this line. */
  expected: string[];
}

const BANKS = ['中国工商银行', '中国农业银行', '中国银行', '中国建设银行', '浙江农商银行'];

function money(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

export class PayrollDraft {
  readonly period: Month;
  readonly draftId: string;
  readonly preparedAt: string;
  private lines: Line[] = [];
  private seq = 0;
  private planted = Object.fromEntries(PLANTS.map((k) => [k, [] as string[]])) as Record<Planted, string[]>;
  private sharedPending: Person[] = [];
  /** A suspended person who is also not certified, in case no suspended person is certified (small cities). */
  private suspendedFallback: { p: Person; scheme: string; fen: number; account: string; f: DraftFinding[] } | null = null;
  /** Accounts that received a paid payment (known on asOf) for a person dead on asOf. */
  private deadAccounts = new Map<string, Set<string>>();
  /** (person|scheme) paid last month, with the amount: the diff's base. */
  private paidLast = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly file: CsvFile
  ) {
    this.period = world.asOfMonth;
    this.draftId = `PD${fmtMonth(this.period).replace('-', '')}-01`;
    this.preparedAt = fmtTs(world.asOf - 3, 10 * 3600);
  }

  private personFacts(p: Person): DraftPersonFacts {
    const asOf = this.world.asOf;
    const known = p.death && p.death.records.some((r) => r.recorded <= asOf) && p.death.day <= asOf ? p.death.day : null;
    const custody = p.custody.filter((c) => c.start <= asOf && c.recorded <= asOf).map((c) => ({ start: c.start, end: c.end }));
    let lapsedOn: Day | null = null;
    const negative = known !== null || custody.some((c) => c.end === null || c.end > asOf);
    const inPopulation = p.enrollments.some(
      (e) => (e.status === 'active' || e.status === 'suspended') && e.start <= monthOf(asOf) && (e.end === null || e.end >= monthOf(asOf))
    );
    if (!negative && inPopulation) {
      const facts = {
        evidence: p.evidence,
        explicit: p.certs.map((x) => ({ day: x.day, method: x.method, pass: x.pass })),
        deathDay: null,
        ongoingCustody: false,
        pastCustodyEnds: custody.filter((c) => c.end !== null && c.end <= asOf).map((c) => c.end!)
      };
      const now = certify(facts, asOf, NOMINAL);
      if (sameReadingsDiffer(facts, asOf)) throw new AmbiguityError('certified or not depends on the reading');
      if (now.status !== 'certified') {
        // The most recent basis ever (no 12-month window): its validity ended, the certification lapsed the day after.
        const ever = (v: Variant) => certify(facts, asOf, { ...v, cutoffShift: -100_000 });
        const e = ever(NOMINAL);
        if (e.certifiedOn !== ever(STRICT).certifiedOn || e.certifiedOn !== ever(LENIENT).certifiedOn)
          throw new AmbiguityError('the last basis depends on the reading');
        lapsedOn =
          e.certifiedOn === null
            ? Math.min(...p.enrollments.filter((x) => x.status === 'active' || x.status === 'suspended').map((x) => firstDay(x.start)))
            : addMonths(e.certifiedOn, 12) + 1;
      }
    }
    return { deathDay: known, custody, lapsedOn };
  }

  private lineFacts(p: Person, scheme: string, fen: number): DraftLineFacts {
    const last = this.world.lastMonth;
    return {
      scheme,
      fen,
      enrollmentStatuses: p.enrollments.filter((e) => e.scheme === scheme).map((e) => e.status),
      enrollments: p.enrollments.map((e) => ({
        scheme: e.scheme,
        updatedMonth: monthOf(e.updated),
        fen: e.currentFen ?? e.yearFen.get(yearOfMonth(Math.min(e.end ?? last, last)))!
      })),
      history: p.payments
        .filter((x) => x.scheme === scheme && x.status === 'paid' && x.period < this.period && x.day <= this.world.asOf)
        .map((x) => ({ period: x.period, fen: x.fen }))
    };
  }

  /** Last month's paid payments of a person by scheme: fen and account. */
  private lastPaid(p: Person): Map<string, { fen: number; account: string }> {
    const m = new Map<string, { fen: number; account: string }>();
    for (const x of p.payments)
      if (x.period === this.world.lastMonth && x.status === 'paid' && x.day <= this.world.asOf) {
        const prev = m.get(x.scheme);
        m.set(x.scheme, { fen: (prev?.fen ?? 0) + x.fen, account: x.account });
      }
    return m;
  }

  private add(p: Person, scheme: string, fen: number, account: string, plant: Planted | null, findings: DraftFinding[]): void {
    this.seq++;
    const lineId = `L${String(this.seq).padStart(7, '0')}`;
    const expected = plant === 'double_receipt' || plant === 'shared_account' ? [plant] : findings.map((f) => f.finding);
    this.lines.push({ lineId, id: p.id, scheme, fen, account, findings, plant, expected });
    const bank = BANKS[(p.idx + scheme.length) % BANKS.length];
    this.file.row([this.draftId, lineId, p.id, scheme, fmtMonth(this.period), money(fen), account, bank, this.preparedAt]);
  }

  /** Called once per generated recipient, after its truth is recorded. */
  consider(p: Person): void {
    const asOf = this.world.asOf;
    const paid = this.lastPaid(p);
    for (const [scheme, x] of paid) this.paidLast.set(`${p.id}|${scheme}`, x.fen);
    if (p.death && p.death.day <= asOf && p.death.records.some((r) => r.recorded <= asOf))
      for (const x of p.payments)
        if (x.status === 'paid' && x.day <= asOf) {
          const s = this.deadAccounts.get(x.account) ?? new Set<string>();
          s.add(p.id);
          this.deadAccounts.set(x.account, s);
        }
    if (p.role?.kind === 'LATE' || p.role?.kind === 'CORRECTION') return;
    let person: DraftPersonFacts;
    try {
      person = this.personFacts(p);
    } catch (e) {
      if (e instanceof AmbiguityError) return;
      throw e;
    }
    const want = (k: Planted) => this.planted[k].length === 0;
    const lineOf = (scheme: string, fen: number): DraftFinding[] | null => {
      try {
        return draftLineFindings(person, this.lineFacts(p, scheme, fen), this.period);
      } catch (e) {
        if (e instanceof AmbiguityError) return null;
        throw e;
      }
    };
    const only = (f: DraftFinding[] | null, code: string) => f !== null && f.length === 1 && f[0].finding === code;
    const exclusive = [...paid.keys()].filter((s) => EXCLUSIVE.has(s));
    const role = p.role?.kind;

    // Planted people with a single exclusive-scheme line that must carry exactly one finding.
    const plantOne = (k: Planted, scheme: string, fen: number, account: string): boolean => {
      const f = lineOf(scheme, fen);
      if (!only(f, k)) return false;
      this.planted[k].push(p.id);
      this.add(p, scheme, fen, account, k, f!);
      return true;
    };
    if (role === 'PAD' && want('dead') && exclusive.length === 1) {
      const [s] = exclusive;
      if (plantOne('dead', s, paid.get(s)!.fen, paid.get(s)!.account)) return;
    }
    if (role === 'PIC' && want('in_custody') && exclusive.length === 1) {
      const [s] = exclusive;
      if (plantOne('in_custody', s, paid.get(s)!.fen, paid.get(s)!.account)) return;
    }
    if (!role && p.profile === 'suspended' && want('suspended') && !p.death && !p.custody.length) {
      const e = p.enrollments.find((x) => EXCLUSIVE.has(x.scheme) && x.status === 'suspended');
      const last =
        e &&
        p.payments
          .filter((x) => x.scheme === e.scheme && x.status === 'paid')
          .sort((a, b) => a.period - b.period)
          .pop();
      if (e && last && person.lapsedOn === null && plantOne('suspended', e.scheme, last.fen, last.account)) return;
      const f = e && last ? lineOf(e.scheme, last.fen) : null;
      if (e && last && f && !this.suspendedFallback && f.map((x) => x.finding).join() === 'suspended,not_certified')
        this.suspendedFallback = { p, scheme: e.scheme, fen: last.fen, account: last.account, f };
    }
    // (lapsed at least 10 days beyond the 60: no reading of "more than 60 days" can differ)
    if (
      !role &&
      isActiveRecipient(p) &&
      !p.death &&
      !p.custody.length &&
      person.lapsedOn !== null &&
      firstDay(this.period) - person.lapsedOn > 70 &&
      want('not_certified')
    ) {
      const [s] = exclusive;
      if (exclusive.length === 1 && plantOne('not_certified', s, paid.get(s)!.fen, paid.get(s)!.account)) return;
    }

    // Clean recipients: alive, free, certified, every enrollment active, one exclusive scheme paid last month.
    if (role || !isActiveRecipient(p) || p.death || p.custody.length || person.lapsedOn !== null) return;
    if (p.enrollments.some((e) => e.status !== 'active') || exclusive.length !== 1 || p.profile === 'suspended') return;
    const lines = [...paid].map(([scheme, x]) => ({ scheme, ...x, f: lineOf(scheme, x.fen) }));
    if (lines.some((l) => l.f === null || l.f.length)) return;
    const [s] = exclusive;
    const main = paid.get(s)!;
    if (want('abnormal_amount')) {
      const h = this.lineFacts(p, s, main.fen).history.slice(-6);
      const fen = Math.round((main.fen * 3) / 200) * 100; // +50%, whole yuan
      if (h.length === 6 && h.every((x) => x.fen === main.fen)) {
        const f = lineOf(s, fen);
        if (only(f, 'abnormal_amount')) {
          this.planted.abnormal_amount.push(p.id);
          for (const l of lines)
            this.add(
              p,
              l.scheme,
              l.scheme === s ? fen : l.fen,
              l.account,
              l.scheme === s ? 'abnormal_amount' : null,
              l.scheme === s ? f! : []
            );
          return;
        }
      }
    }
    if (want('double_receipt')) {
      const other = s === 'ENT' ? 'RES' : 'ENT';
      const fen = Math.round(main.fen / 300) * 100; // about a third, whole yuan
      const f = lineOf(other, fen);
      if (f !== null && f.length === 0 && !p.enrollments.some((e) => e.scheme === other)) {
        this.planted.double_receipt.push(p.id);
        for (const l of lines) this.add(p, l.scheme, l.fen, l.account, null, []);
        this.add(p, other, fen, main.account, 'double_receipt', []);
        return;
      }
    }
    if (want('shared_account') && lines.length === 1) {
      this.sharedPending.push(p);
      if (this.sharedPending.length === 3) {
        const account = this.lastPaid(this.sharedPending[0]).get(s)?.account ?? main.account;
        for (const q of this.sharedPending) {
          const [[scheme, x]] = [...this.lastPaid(q)];
          this.planted.shared_account.push(q.id);
          this.add(q, scheme, x.fen, account, 'shared_account', []);
        }
      }
      return;
    }
    for (const l of lines) this.add(p, l.scheme, l.fen, l.account, null, []);
  }

  /** Cross-line rules, the truth, and the check that exactly the planted problems are found. */
  finish(sharedMin: number): PayrollTruth {
    if (!this.planted.suspended.length && this.suspendedFallback) {
      const x = this.suspendedFallback;
      this.planted.suspended.push(x.p.id);
      this.add(x.p, x.scheme, x.fen, x.account, 'suspended', x.f);
    }
    for (const k of PLANTS)
      if (!this.planted[k].length) throw new Error(`generator bug: no person could carry the planted payroll finding ${k}`);
    // double_receipt: lines of one exclusive group for a person, every one but the largest (ties: smallest line id).
    const byPerson = new Map<string, Line[]>();
    for (const l of this.lines) if (EXCLUSIVE.has(l.scheme)) byPerson.set(l.id, [...(byPerson.get(l.id) ?? []), l]);
    for (const ls of byPerson.values()) {
      if (ls.length < 2) continue;
      const sorted = [...ls].sort((a, b) => b.fen - a.fen || (a.lineId < b.lineId ? -1 : 1));
      for (const l of sorted.slice(1)) l.findings.push({ finding: 'double_receipt' as DraftFinding['finding'], fen: l.fen, held: true });
    }
    // shared_account: an account on lines of sharedMin people or more, or paid for someone now known dead (others' lines).
    const people = new Map<string, Set<string>>();
    for (const l of this.lines) people.set(l.account, (people.get(l.account) ?? new Set()).add(l.id));
    for (const l of this.lines) {
      const dead = [...(this.deadAccounts.get(l.account) ?? [])].filter((id) => id !== l.id);
      if (people.get(l.account)!.size >= sharedMin || dead.length)
        l.findings.push({ finding: 'shared_account' as DraftFinding['finding'], fen: l.fen, held: true });
    }
    const findings: PayrollFindingTruth[] = [];
    for (const l of this.lines) {
      const got = l.findings.map((f) => f.finding);
      if (JSON.stringify(got) !== JSON.stringify(l.expected))
        throw new Error(`generator bug: payroll line ${l.lineId} (${l.plant ?? 'clean'}) finds [${got.join(', ')}]`);
      for (const f of l.findings)
        findings.push({
          line_id: l.lineId,
          id_number: l.id,
          scheme_code: l.scheme,
          amount: money(l.fen),
          finding: f.finding,
          amount_at_risk: money(f.fen),
          held: f.held
        });
    }
    const onDraft = new Map<string, number>();
    for (const l of this.lines) onDraft.set(`${l.id}|${l.scheme}`, (onDraft.get(`${l.id}|${l.scheme}`) ?? 0) + l.fen);
    const diff: PayrollTruth['diff'] = { new_payee: [], amount_changed: [], dropped_payee_count: 0 };
    for (const [k, fen] of onDraft) {
      const [id_number, scheme_code] = k.split('|');
      const prev = this.paidLast.get(k);
      if (prev === undefined) diff.new_payee.push({ id_number, scheme_code, draft_amount: money(fen) });
      else if (Math.abs(fen - prev) * 10 > prev)
        diff.amount_changed.push({ id_number, scheme_code, previous_amount: money(prev), draft_amount: money(fen) });
    }
    for (const k of this.paidLast.keys()) if (!onDraft.has(k)) diff.dropped_payee_count++;
    const heldLines = this.lines.filter((l) => l.findings.some((f) => f.held));
    return {
      period: fmtMonth(this.period),
      draft_id: this.draftId,
      prepared_at: this.preparedAt,
      lines: this.lines.length,
      people: new Set(this.lines.map((l) => l.id)).size,
      amount: money(this.lines.reduce((s, l) => s + l.fen, 0)),
      findings,
      planted: this.planted,
      held_lines: heldLines.length,
      held_amount: money(heldLines.reduce((s, l) => s + l.fen, 0)),
      diff
    };
  }
}

function sameReadingsDiffer(facts: Parameters<typeof certify>[0], asOf: Day): boolean {
  const a = certify(facts, asOf, STRICT);
  const b = certify(facts, asOf, LENIENT);
  return a.status !== b.status;
}
