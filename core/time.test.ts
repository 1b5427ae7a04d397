import { describe, expect, it } from 'vitest';
import { shanghaiIso, todayShanghai } from './time.ts';

describe('times as the bureau reads them', () => {
  it('writes an instant in Beijing time with its offset, the same instant', () => {
    expect(shanghaiIso(new Date('2026-12-05T16:02:03.456Z'))).toBe('2026-12-06T00:02:03+08:00');
    expect(shanghaiIso('2026-12-05T16:02:03.456Z', 'ms')).toBe('2026-12-06T00:02:03.456+08:00');
    expect(shanghaiIso(Date.parse('2024-02-28T23:30:00+08:00'))).toBe('2024-02-28T23:30:00+08:00');
    expect(Date.parse(shanghaiIso('2026-12-05T16:02:03.456Z', 'ms'))).toBe(Date.parse('2026-12-05T16:02:03.456Z'));
    // The day it names is the day todayShanghai names.
    const late = new Date('2026-12-31T16:30:00Z');
    expect(shanghaiIso(late).slice(0, 10)).toBe(todayShanghai(late));
  });

  it('refuses what is not a time rather than writing "Invalid Date"', () => {
    expect(() => shanghaiIso('yesterday')).toThrow(/not a time: yesterday/);
  });
});
