import { describe, expect, it } from 'vitest';
import { summarize } from './status.ts';

describe('a group of statuses as a whole', () => {
  it('says all clear only when every figure was judged and is fine', () => {
    expect(summarize(['ok', 'ok']).kind).toBe('clear');
    expect(summarize(['ok', 'neutral']).kind).toBe('quiet');
    expect(summarize(['neutral', 'neutral']).kind).toBe('quiet');
  });

  it('never says all clear when figures have no data', () => {
    expect(summarize(['no_data', 'no_data'])).toMatchObject({ kind: 'no_data', noData: 2 });
    expect(summarize([])).toMatchObject({ kind: 'no_data' });
    expect(summarize(['ok', 'no_data'])).toMatchObject({ kind: 'partial', noData: 1 });
  });

  it('counts what fired before anything else', () => {
    expect(summarize(['critical', 'warn', 'warn', 'no_data', 'ok'])).toEqual({ kind: 'breached', critical: 1, warn: 2, noData: 1 });
  });
});
