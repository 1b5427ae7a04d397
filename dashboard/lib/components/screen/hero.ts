// The wall screen's hero row: the headline numbers a director reads first, each taken from the
// indicators the tiles show (no second definition of any figure). "Open critical alerts" is the sum
// of the alert-count indicators whose limit makes any open alert critical (bound above, critical 0
// in the model's thresholds), so a rule that changes its limit there moves in or out of this sum.
import type { Family } from '$lib/i18n';
import type { Indicator } from './types.ts';

export type HeroKey = 'recipients' | 'payout' | 'coverage' | 'atRisk' | 'criticalAlerts' | 'recovered';

export interface HeroFigure {
  key: HeroKey;
  /** The indicators behind the figure (one, or the alert counts summed). */
  codes: string[];
  /** The one indicator to show on the map and whose title, unit, status and change the card shows. */
  lead: Indicator | null;
  value: number | null;
  status: Indicator['status'];
  family: Family;
}

const SINGLE: [HeroKey, string][] = [
  ['recipients', 'P01'],
  ['payout', 'A01'],
  ['coverage', 'C01'],
  ['atRisk', 'R06']
];
const RECOVERED = 'R07';

/** An alert-count indicator where any open alert is critical. */
export const isCriticalAlertCount = (i: Indicator) => i.unit === 'alerts' && i.bounds?.above?.critical === 0;

const RANK: Record<Indicator['status'], number> = { critical: 4, warn: 3, ok: 2, neutral: 1, no_data: 0 };

export function heroFigures(indicators: readonly Indicator[]): HeroFigure[] {
  const by = new Map(indicators.map((i) => [i.code, i]));
  const one = (key: HeroKey, code: string): HeroFigure => {
    const i = by.get(code) ?? null;
    return {
      key,
      codes: [code],
      lead: i,
      value: i?.value ?? null,
      status: i?.status ?? 'no_data',
      family: (i?.family ?? code[0]) as Family
    };
  };
  const alerts = indicators.filter(isCriticalAlertCount);
  const counted = alerts.filter((i) => i.value !== null);
  const worst = alerts.reduce<Indicator['status']>((w, i) => (RANK[i.status] > RANK[w] ? i.status : w), 'no_data');
  return [
    ...SINGLE.map(([k, c]) => one(k, c)),
    {
      key: 'criticalAlerts',
      codes: alerts.map((i) => i.code),
      lead: alerts[0] ?? null,
      value: counted.length ? counted.reduce((s, i) => s + Number(i.value), 0) : null,
      status: worst,
      family: 'R'
    },
    one('recovered', RECOVERED)
  ];
}
