import { describe, expect, it } from 'vitest';
import { checkFreeText, refusePersonalData } from './free-text.ts';
import { makeIdNumber } from './id-number.ts';

describe('checkFreeText', () => {
  const id = makeIdNumber('330681', '1950-03-04', 17);

  it('refuses ID numbers, whole, grouped, 15-digit, full-width or inside words', () => {
    for (const t of [
      `身份证 ${id}`,
      `号码${id}已核对`,
      `${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}`,
      `${id.slice(0, 6)}-${id.slice(6, 14)}-${id.slice(14)}`,
      '330681500304123',
      id.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))
    ]) {
      const r = checkFreeText(t);
      expect(r, t).toMatchObject({ ok: false, problem: 'id_number' });
      expect(r.message).toMatch(/身份证号.*ID number/);
    }
  });

  it('refuses mobile and landline numbers in their usual spellings', () => {
    for (const t of [
      '电话13812345678',
      '打 138 1234 5678 找女儿',
      '138-1234-5678',
      '+86 13812345678',
      '8613812345678',
      '0575-87654321',
      '(0575)87654321',
      '057587654321',
      '家里座机 87654321',
      '邻居电话 1234567'
    ]) {
      const r = checkFreeText(t);
      expect(r.ok, t).toBe(false);
      expect(['phone', 'long_number', 'id_number'], t).toContain(r.problem);
    }
    expect(checkFreeText('138 1234 5678').problem).toBe('phone');
    expect(checkFreeText('0575-87654321').problem).toBe('phone');
  });

  it('refuses other long numbers (accounts, cards)', () => {
    expect(checkFreeText('账号 6222021234567890123')).toMatchObject({ ok: false });
    expect(checkFreeText('卡号123456789')).toMatchObject({ ok: false, problem: 'long_number' });
  });

  it('lets dates, amounts, house numbers and plain words through', () => {
    for (const t of [
      '',
      null,
      undefined,
      '本人在家，身体尚可',
      '2026-12-04 上午见到本人',
      '20261204 见到本人',
      '2026年12月4日',
      '住 3 幢 2 单元 501 室',
      '养老金 3000.00 元',
      'Seen at home at 10:30, room 1203'
    ]) {
      expect(checkFreeText(t), String(t)).toEqual({ ok: true });
    }
  });
});

describe('refusePersonalData', () => {
  it('throws a 400 with the message for an ID number or a phone, and passes ordinary notes', () => {
    const id = makeIdNumber('330681', '1950-03-04', 17);
    expect(() => refusePersonalData(`家属称 ${id} 已去世`)).toThrow(/身份证号.*ID number/);
    try {
      refusePersonalData('电话13812345678');
    } catch (e) {
      expect(e).toMatchObject({ status: 400, code: 'free_text_phone' });
    }
    expect(() => refusePersonalData('2026年12月4日上门核实，本人健在，金额1234.56元')).not.toThrow();
    expect(() => refusePersonalData(undefined)).not.toThrow();
  });
});
