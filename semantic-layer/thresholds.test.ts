import { describe, expect, it } from 'vitest';
import { evaluate, fluctuationRule, MATERIALITY, robustZ, worstStatus } from './thresholds.ts';

const flat = (n: number) => Array.from({ length: 12 }, () => n);

describe('threshold evaluation', () => {
  it('reports a critical month-on-month drop with the reason in both languages', () => {
    const e = evaluate({ mom: { warn: 3, critical: 8 } }, { value: 90.6, previous: 100, lastYear: null, trailing: [] });
    expect(e.status).toBe('critical');
    expect(e.mom).toBeCloseTo(-9.4, 5);
    expect(e.reason_en).toBe('MoM −9.4%, critical below −8%');
    expect(e.reason_zh).toBe('环比 −9.4%，严重阈值 低于 −8%');
  });

  it('warns between the warn and critical limits, in either direction', () => {
    expect(evaluate({ mom: { warn: 3, critical: 8 } }, { value: 105, previous: 100, lastYear: null, trailing: [] }).status).toBe('warn');
    expect(evaluate({ mom: { warn: 3, critical: 8 } }, { value: 102, previous: 100, lastYear: null, trailing: [] }).status).toBe('neutral');
  });

  it('applies bounds below and above', () => {
    const cov = { bound: { below: { warn: 97, critical: 95 } } };
    expect(evaluate(cov, { value: 96, previous: null, lastYear: null, trailing: [] })).toMatchObject({
      status: 'warn',
      reason_en: 'Value 96, warn below 97'
    });
    expect(evaluate(cov, { value: 94.5, previous: null, lastYear: null, trailing: [] }).status).toBe('critical');
    expect(evaluate({ bound: { above: { critical: 0 } } }, { value: 2, previous: null, lastYear: null, trailing: [] }).status).toBe(
      'critical'
    );
    expect(evaluate({ bound: { above: { critical: 0 } } }, { value: 0, previous: null, lastYear: null, trailing: [] }).status).toBe('ok');
  });

  it('flags abnormal fluctuation by robust z-score against the trailing 12 periods', () => {
    const trailing = [100, 102, 98, 101, 99, 100, 103, 97, 100, 101, 99, 100];
    expect(evaluate({ fluctuation: { warn: 3, critical: 5 } }, { value: 101, previous: 100, lastYear: null, trailing }).status).toBe(
      'neutral'
    );
    const spike = evaluate({ fluctuation: { warn: 3, critical: 5 } }, { value: 130, previous: 100, lastYear: null, trailing });
    expect(spike.status).toBe('critical');
    expect(spike.zScore!).toBeGreaterThan(5);
    // the reason says how much it changed, not only how many deviations
    expect(spike.vsMedian).toBeCloseTo(30, 9);
    expect(spike.reason_zh).toMatch(/^异常波动：较近12期中位数 \+30%（稳健Z值 \+\d+(\.\d)?），严重阈值 ±5$/);
    expect(spike.reason_en).toMatch(
      /^Abnormal fluctuation: \+30% vs the trailing-12 median \(robust z \+\d+(\.\d)?\), critical beyond ±5$/
    );
  });

  it('needs enough history before judging fluctuation', () => {
    expect(robustZ(500, [1, 2, 3])).toBeNull();
    expect(robustZ(5, flat(5))).toBe(0);
    expect(robustZ(6, flat(5))).toBe(Infinity);
  });

  it('the worst breach decides and every breach is listed', () => {
    const e = evaluate(
      { mom: { warn: 3, critical: 8 }, yoy: { warn: 12, critical: 20 } },
      { value: 104, previous: 100, lastYear: 70, trailing: [] }
    );
    expect(e.status).toBe('critical');
    expect(e.breaches.map((b) => b.kind)).toEqual(['yoy', 'mom']);
  });

  it('says no_data when there is no value', () => {
    expect(evaluate({ mom: { warn: 3 } }, { value: null, previous: 1, lastYear: null, trailing: [] }).status).toBe('no_data');
  });

  it('share changes are judged in percentage points and last-year comparisons only warn', () => {
    expect(evaluate({ points: { warn: 5 } }, { value: 31, previous: 25, lastYear: null, trailing: [] }).reason_en).toBe(
      'Share change +6 points, warn above +5 points'
    );
    expect(evaluate({ last_year: true }, { value: 40, previous: null, lastYear: 45, trailing: [] }, '%').status).toBe('warn');
  });

  it('green means judged and fine: only an indicator with a bound is ok; without one, nothing fired is neutral', () => {
    const none = { value: 9.58, previous: 30, lastYear: 40, trailing: [] };
    expect(evaluate({}, none, '%').status).toBe('neutral');
    expect(evaluate({ last_year: true }, { ...none, lastYear: 5 }, '%').status).toBe('neutral');
    expect(evaluate({ mom: { warn: 300 } }, none, '%').status).toBe('neutral');
    expect(evaluate({ fluctuation: { warn: 3, critical: 5 } }, { ...none, trailing: [9, 10, 9, 10, 9, 10] }, '%').status).toBe('neutral');
    expect(evaluate({ bound: { below: { warn: 5 } } }, none, '%').status).toBe('ok');
    expect(evaluate({ bound: { above: { critical: 0 } }, fluctuation: { warn: 3 } }, { ...none, value: 0 }).status).toBe('ok');
    expect(evaluate({ bound: {} }, none, '%').status).toBe('neutral');
    expect(evaluate({}, { ...none, value: null }).status).toBe('no_data');
  });

  it('ranks neutral between no data and ok: a judged fine figure outranks an unjudged one, any breach outranks both', () => {
    expect(worstStatus(['neutral', 'ok', 'no_data'])).toBe('ok');
    expect(worstStatus(['neutral', 'no_data'])).toBe('neutral');
    expect(worstStatus(['ok', 'warn', 'neutral'])).toBe('warn');
    expect(worstStatus([])).toBe('no_data');
  });

  describe('materiality of a fluctuation alarm', () => {
    // A steady count: ±0.1 % around 20,000 a month, so a −0.5 % dip is "z −8.9"-far from normal.
    const steady = [20000, 20010, 19990, 20005, 19995, 20000, 20008, 19992, 20003, 19997, 20001, 19999];
    const fl = { fluctuation: { warn: 3, critical: 5 } };

    it('a huge z on an immaterial change is not an alarm (A03: −0.5 %)', () => {
      const e = evaluate(fl, { value: 19900, previous: 20000, lastYear: null, trailing: steady }, 'payments');
      expect(Math.abs(e.zScore!)).toBeGreaterThan(5);
      expect(e.vsMedian).toBeCloseTo(-0.5, 9);
      expect(e.status).toBe('neutral');
      expect(e.breaches).toEqual([]);
    });

    it('a tiny count is not an alarm however far it moves (12 payments in a small community)', () => {
      const small = [4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5];
      const e = evaluate(fl, { value: 12, previous: 5, lastYear: null, trailing: small }, 'payments');
      expect(e.zScore!).toBeGreaterThan(5);
      expect(e.status).toBe('neutral');
      // the same jump from a base the indicator names as material is red
      expect(
        evaluate(
          { fluctuation: { ...fl.fluctuation, min_base: 10 } },
          { value: 12, previous: 5, lastYear: null, trailing: small },
          'payments'
        ).status
      ).toBe('critical');
    });

    it('a material change with a large z is an alarm, in either direction', () => {
      expect(evaluate(fl, { value: 17000, previous: 20000, lastYear: null, trailing: steady }, 'payments').status).toBe('critical');
      expect(evaluate(fl, { value: 23000, previous: 20000, lastYear: null, trailing: steady }, 'payments').status).toBe('critical');
      // a rise from nothing is material when the new value reaches the base
      const zero = Array.from({ length: 12 }, () => 0);
      expect(evaluate(fl, { value: 80, previous: 0, lastYear: null, trailing: zero }, 'people')).toMatchObject({ status: 'critical' });
      expect(evaluate(fl, { value: 80, previous: 0, lastYear: null, trailing: zero }, 'people').reason_en).toMatch(
        /^Abnormal fluctuation: \+∞ vs/
      );
      expect(evaluate(fl, { value: 8, previous: 0, lastYear: null, trailing: zero }, 'people').status).toBe('neutral');
    });

    it('takes the minimum change and base from the indicator, else the default of its unit', () => {
      expect(fluctuationRule(fl, 'people')).toEqual({ warn: 3, critical: 5, ...MATERIALITY.people });
      expect(fluctuationRule(fl, 'yuan')).toEqual({ warn: 3, critical: 5, ...MATERIALITY.yuan });
      expect(fluctuationRule({ fluctuation: { warn: 3, min_change: 2, min_base: 1000 } }, 'people')).toEqual({
        warn: 3,
        critical: Infinity,
        min_change: 2,
        min_base: 1000
      });
      expect(fluctuationRule({}, 'people')).toBeNull();
      const p01 = { fluctuation: { warn: 3, critical: 5, min_change: 0.4 } };
      expect(evaluate(p01, { value: 19900, previous: 20000, lastYear: null, trailing: steady }, 'people').status).toBe('critical');
    });
  });
});
