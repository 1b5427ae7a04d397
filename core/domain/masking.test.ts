import { describe, expect, it } from 'vitest';
import { maskIdNumber, maskName, maskPhone } from './masking.ts';

describe('masking', () => {
  it('masks names, keeping the first and (for 3+) the last character', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('王小明')).toBe('王*明');
    expect(maskName('欧阳小明')).toBe('欧**明');
    expect(maskName(null)).toBeNull();
  });
  it('masks phones and id numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskIdNumber('330602195507091238')).toBe('3306************38');
  });
});
