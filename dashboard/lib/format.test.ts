import { describe, expect, it } from 'vitest';
import {
  shortReason,
  chineseMagnitude,
  formatAgo,
  formatAxis,
  formatChange,
  formatClock,
  formatDateTime,
  formatPercentNumber,
  formatPeriod,
  formatDay,
  formatListCell,
  formatPeriodShort,
  formatValue,
  formatYuan,
  formatYuanExact,
  MISSING
} from './format.ts';

describe('Chinese magnitudes', () => {
  it('keeps small counts whole with separators and folds large ones into 万 and 亿', () => {
    expect(chineseMagnitude(8532)).toEqual({ text: '8,532', magnitude: '' });
    expect(chineseMagnitude(20345)).toEqual({ text: '2.03', magnitude: '万' });
    expect(chineseMagnitude(362721)).toEqual({ text: '36.27', magnitude: '万' });
    expect(chineseMagnitude(1234567)).toEqual({ text: '123.5', magnitude: '万' });
    expect(chineseMagnitude(12345678)).toEqual({ text: '1,235', magnitude: '万' });
    expect(chineseMagnitude(456000000)).toEqual({ text: '4.56', magnitude: '亿' });
    expect(chineseMagnitude(10000)).toEqual({ text: '1', magnitude: '万' });
  });

  it('says "–" for anything missing, never NaN', () => {
    for (const v of [null, undefined, NaN, '', 'abc']) expect(chineseMagnitude(v as never).text).toBe(MISSING);
    expect(formatValue(null, 'people').full).toBe(MISSING);
  });
});

describe('indicator values', () => {
  it('formats each unit in Chinese', () => {
    expect(formatValue(20345, 'people').full).toBe('2.03万人');
    expect(formatValue(612, 'people').full).toBe('612人');
    expect(formatValue(65432100.5, 'yuan').full).toBe('6,543万元');
    expect(formatValue(709800, 'yuan').full).toBe('70.98万元');
    expect(formatValue('1234.5', 'yuan').full).toBe('1,234.50元');
    expect(formatValue(456789012, 'yuan').full).toBe('4.57亿元');
    expect(formatValue(98.734, '%').full).toBe('98.73%');
    expect(formatValue(100, '%').full).toBe('100%');
    expect(formatValue(12.5, '%').full).toBe('12.5%');
    expect(formatValue(14.23, 'months').full).toBe('14.2个月');
    expect(formatValue(2.345, 'ratio').full).toBe('2.35');
    expect(formatValue(3, 'alerts').full).toBe('3条');
    expect(formatValue(4.3, 'score').full).toBe('4.30分');
    expect(formatValue(1280, 'sign-ups').full).toBe('1,280人次');
    expect(formatValue(-1234567, 'yuan').full).toBe('−123.5万元');
  });

  it('splits number and unit for large type', () => {
    expect(formatValue(20345, 'people')).toEqual({ number: '2.03', unit: '万人', full: '2.03万人' });
  });

  it('formats English with K/M/B', () => {
    expect(formatValue(20345, 'people', 'en').full).toBe('20.35K people');
    expect(formatValue(8532, 'people', 'en').full).toBe('8,532 people');
    expect(formatValue(362721, 'people', 'en').full).toBe('362.7K people');
    expect(formatValue(65432100, 'yuan', 'en').full).toBe('65.43M yuan');
    expect(formatValue(97.2, '%', 'en').full).toBe('97.2%');
  });

  it('percent precision shows the gap near 100%', () => {
    expect(formatPercentNumber(99.456)).toBe('99.46');
    expect(formatPercentNumber(87.25)).toBe('87.3');
    expect(formatPercentNumber(96.5)).toBe('96.5');
    expect(formatPercentNumber(0)).toBe('0');
    expect(formatPercentNumber(5.123)).toBe('5.12');
  });
});

describe('money', () => {
  it('formats yuan strings exactly, without float arithmetic', () => {
    expect(formatYuanExact('709800')).toBe('709,800.00');
    expect(formatYuanExact('1234567.8')).toBe('1,234,567.80');
    expect(formatYuanExact('-12.5')).toBe('−12.50');
    expect(formatYuanExact(null)).toBe(MISSING);
    expect(formatYuan('709800.00')).toBe('70.98万元');
  });
});

describe('changes, periods and times', () => {
  it('signs changes with a real minus', () => {
    expect(formatChange(1.234)).toBe('+1.2%');
    expect(formatChange(-9.44)).toBe('−9.4%');
    expect(formatChange(0.01)).toBe('0%');
    expect(formatChange(null)).toBe(MISSING);
  });

  it('writes periods the Chinese way', () => {
    expect(formatPeriod('2026-10')).toBe('2026年10月');
    expect(formatPeriod('2026-01-01')).toBe('2026年1月');
    expect(formatPeriod('2026-10', 'en')).toBe('Oct 2026');
    expect(formatPeriod('bad')).toBe(MISSING);
    expect(formatPeriodShort('2026-03')).toBe('3月');
    expect(formatPeriodShort('2026-01', 'zh', true)).toBe('26年1月');
    expect(formatDay('2026-03-05')).toBe('2026年3月5日');
    expect(formatDay('2026-03-05', 'en')).toBe('5 Mar 2026');
    expect(formatDay('2026-03')).toBe(MISSING);
    expect(formatPeriodShort('2025-11', 'en', true)).toBe("Nov '25"); // ASCII: the CJK font draws ’ full-width
  });

  it('tells time in Beijing whatever the machine zone', () => {
    const d = new Date('2026-10-11T18:03:22Z'); // 02:03 on the 12th in Shanghai
    expect(formatClock(d)).toEqual({ date: '2026年10月12日 星期一', time: '02:03:22' });
    expect(formatClock(d, 'en')).toEqual({ date: 'Mon 12 Oct 2026', time: '02:03:22' });
    expect(formatDateTime('2026-10-11T18:30:00Z', 'zh', d)).toBe('10月12日 02:30');
    expect(formatDateTime('2025-10-11T18:30:00Z', 'zh', d)).toBe('2025年10月12日 02:30');
  });

  it('says how long ago', () => {
    const now = new Date('2026-10-12T10:00:00Z');
    expect(formatAgo('2026-10-12T09:59:30Z', now)).toBe('刚刚');
    expect(formatAgo('2026-10-12T09:57:00Z', now)).toBe('3分钟前');
    expect(formatAgo('2026-10-12T07:00:00Z', now, 'en')).toBe('3 h ago');
  });

  it('keeps axis labels short', () => {
    expect(formatAxis(65000000)).toBe('6500万');
    expect(formatAxis(250000000)).toBe('2.5亿');
    expect(formatAxis(15000)).toBe('1.5万');
    expect(formatAxis(12)).toBe('12');
  });
});

describe('short reasons for tiles', () => {
  it('keeps what the tile does not already show', () => {
    // a fluctuation alarm keeps its change as well as its z: "Z −8.9" alone hid that the change was −0.5 %
    expect(shortReason('异常波动：较近12期中位数 −12.3%（稳健Z值 −3.8），预警阈值 ±3')).toBe('异常波动 −12.3%（Z −3.8）');
    expect(shortReason('当前值 0.43，严重：低于 1.5')).toBe('低于 1.5');
    expect(shortReason('当前值 −2734623.9，预警：低于 0')).toBe('低于 0');
    expect(shortReason('环比 −9.4%，严重：低于 −8%')).toBe('环比 −9.4%，低于 −8%');
    expect(shortReason('Value 0.43, critical below 1.5', 'en')).toBe('below 1.5');
    expect(shortReason('Abnormal fluctuation: −12.3% vs the trailing-12 median (robust z −3.8), warn beyond ±3', 'en')).toBe(
      'Abnormal fluctuation −12.3% (z −3.8)'
    );
    expect(shortReason('something else entirely')).toBe('something else entirely');
    expect(shortReason(null)).toBe('');
  });
});

describe('people list cells', () => {
  it('shows months, days, and a date older than the data as "before" the first month, never as a date', () => {
    expect(formatListCell('2019-03')).toBe('2019年3月');
    expect(formatListCell('2019-03-05')).toBe('2019年3月5日');
    expect(formatListCell('before 2024-12')).toBe('2024年12月以前');
    expect(formatListCell('before 2024-12', 'en')).toBe('before Dec 2024');
    expect(formatListCell(null)).toBe('–');
    expect(formatListCell('something')).toBe('something');
  });
});
