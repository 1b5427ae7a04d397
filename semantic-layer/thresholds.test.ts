import { describe, expect, it } from 'vitest';
import { evaluate, robustZ } from './thresholds.ts';

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
    expect(evaluate({ mom: { warn: 3, critical: 8 } }, { value: 102, previous: 100, lastYear: null, trailing: [] }).status).toBe('ok');
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
    expect(evaluate({ fluctuation: { warn: 3, critical: 5 } }, { value: 101, previous: 100, lastYear: null, trailing }).status).toBe('ok');
    const spike = evaluate({ fluctuation: { warn: 3, critical: 5 } }, { value: 130, previous: 100, lastYear: null, trailing });
    expect(spike.status).toBe('critical');
    expect(spike.zScore!).toBeGreaterThan(5);
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
});
