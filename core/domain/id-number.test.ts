import { describe, expect, it } from 'vitest';
import { checkCharacter, makeIdNumber, maskIdNumber, parseIdNumber, toLegacy15 } from './id-number.ts';

describe('identity numbers', () => {
  it('accepts a valid number and derives sex and birth date', () => {
    // The GB 11643-1999 worked example.
    const r = parseIdNumber('11010519491231002X');
    expect(r).toEqual({ ok: true, value: '11010519491231002X', birthDate: '1949-12-31', sex: 'F', converted: false });
  });
  it('accepts a lower-case x and stores upper-case', () => {
    const r = parseIdNumber(' 11010519491231002x ');
    expect(r.ok && r.value).toBe('11010519491231002X');
  });
  it('rejects a wrong check character with the expected one', () => {
    const r = parseIdNumber('110105194912310021');
    expect(r).toEqual({ ok: false, reason: 'id_number check character is 1, expected X' });
  });
  it('converts a 15-digit legacy number', () => {
    const r = parseIdNumber('110105491231002');
    expect(r).toMatchObject({ ok: true, value: '11010519491231002X', converted: true, sex: 'F' });
  });
  it('rejects wrong lengths, letters and impossible dates', () => {
    expect(parseIdNumber('1234')).toMatchObject({ ok: false, reason: expect.stringContaining('got 4') });
    expect(parseIdNumber('11010519491231A02X')).toMatchObject({ ok: false, reason: expect.stringContaining('characters') });
    const feb30 = makeIdNumber('330681', '1950-02-30', 11);
    expect(parseIdNumber(feb30)).toMatchObject({ ok: false, reason: expect.stringContaining('impossible birth date') });
  });
  it('round-trips generated and legacy numbers', () => {
    const id = makeIdNumber('330681', '1955-07-09', 123);
    expect(id[17]).toBe(checkCharacter(id.slice(0, 17)));
    expect(parseIdNumber(id)).toMatchObject({ ok: true, sex: 'M', birthDate: '1955-07-09' });
    expect(parseIdNumber(toLegacy15(id))).toMatchObject({ ok: true, value: id, converted: true });
  });
  it('masks all but the region prefix and the last two characters', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('1101************2X');
  });
});
