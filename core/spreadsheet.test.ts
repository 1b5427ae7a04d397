import { describe, expect, it } from 'vitest';
import { spreadsheetCell } from './spreadsheet.ts';

describe('spreadsheet cells', () => {
  it.each(['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=1+1', '=1'])(
    'neutralises %j',
    (v) => {
      expect(spreadsheetCell(v)).toBe(`'${v}`);
    }
  );
  it.each(['张三', '-12.50', '+3', '0.5', '1e3', '330602195001011233', 'a=b', ''])('keeps %j', (v) => {
    expect(spreadsheetCell(v)).toBe(v);
  });
});
