// Which "now" snapshot stands for the month shown (issue 18.11): a past month never borrows an earlier
// or a later state.
import { describe, expect, it } from 'vitest';
import { nowSnapshotFor } from './indicators.ts';

const periods = ['2026-07', '2026-08', '2026-09', '2026-10'];

describe('nowSnapshotFor', () => {
  it('takes the newest snapshot up to the month after the newest month', () => {
    expect(nowSnapshotFor(['2026-10'], '2026-10', periods)).toBe('2026-10');
    expect(nowSnapshotFor(['2026-10', '2026-11'], '2026-10', periods)).toBe('2026-11');
    // facts not yet rebuilt after a new month arrived: the last state is still the current one
    expect(nowSnapshotFor(['2026-09'], '2026-10', periods)).toBe('2026-09');
  });
  it('gives a past month only its own snapshot', () => {
    expect(nowSnapshotFor(['2026-10'], '2026-08', periods)).toBeNull();
    expect(nowSnapshotFor(['2026-07', '2026-10'], '2026-08', periods)).toBeNull();
    expect(nowSnapshotFor(['2026-07', '2026-08', '2026-10'], '2026-08', periods)).toBe('2026-08');
    expect(nowSnapshotFor(['2026-09', '2026-10'], '2026-08', periods)).toBe('2026-09');
  });
});
