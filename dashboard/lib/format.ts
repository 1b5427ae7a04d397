// Numbers, money, periods and times the way a Chinese bureau reads them (万/亿, 2026年10月,
// Asia/Shanghai), with an English rendering for the toggle. Pure and shared by server and client.
//
// Contract: every function accepts null/undefined/NaN and returns '–' for a missing value, never
// "NaN" or "null". Money arrives as strings (numeric(14,2) from SQL) or numbers; it is only
// formatted here, never summed.

export type Lang = 'zh' | 'en';
export type Unit = 'people' | 'yuan' | '%' | 'months' | 'ratio' | 'payments' | 'alerts' | 'days' | 'score' | 'sign-ups' | 'records';

export const MISSING = '–';
const MINUS = '−'; // U+2212: a real minus sign, as wide as the plus

const WAN = 1e4;
const YI = 1e8;

function num(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Fixed decimals with thousands separators and a real minus sign; trailing zeros kept. */
export function grouped(n: number, decimals = 0): string {
  const s = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return (n < 0 && Number(s.replace(/,/g, '')) !== 0 ? MINUS : '') + s;
}

/** Decimals for a scaled amount: 36.27万, 123.5万, 1235万 — at most 4 significant integer digits stay readable. */
function scaledDecimals(scaled: number): number {
  const a = Math.abs(scaled);
  return a >= 1000 ? 0 : a >= 100 ? 1 : 2;
}

/** Strip trailing zeros of a fixed-decimal string: 2.50 → 2.5, 3.00 → 3. */
function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * A large count or amount in Chinese magnitude units: 8,532 · 2.03万 · 36.27万 · 4.56亿.
 * `keepCents` keeps two decimals below 1万 (for yuan).
 */
export function chineseMagnitude(
  v: number | string | null | undefined,
  opts: { keepCents?: boolean } = {}
): { text: string; magnitude: '' | '万' | '亿' } {
  const n = num(v);
  if (n === null) return { text: MISSING, magnitude: '' };
  const a = Math.abs(n);
  if (a >= YI) return { text: trim(grouped(n / YI, scaledDecimals(n / YI))), magnitude: '亿' };
  if (a >= WAN) return { text: trim(grouped(n / WAN, scaledDecimals(n / WAN))), magnitude: '万' };
  if (opts.keepCents) return { text: grouped(n, Number.isInteger(n) ? 0 : 2), magnitude: '' };
  return { text: grouped(n, Number.isInteger(n) ? 0 : 1), magnitude: '' };
}

/** English compact form: 8,532 · 20.3K · 1.23M · 4.56B. */
function englishMagnitude(n: number, keepCents: boolean): { text: string; magnitude: '' | 'K' | 'M' | 'B' } {
  const a = Math.abs(n);
  const scaled = (d: number, m: 'K' | 'M' | 'B') => ({ text: trim(grouped(n / d, scaledDecimals(n / d))), magnitude: m });
  if (a >= 1e9) return scaled(1e9, 'B');
  if (a >= 1e6) return scaled(1e6, 'M');
  if (a >= 1e4) return scaled(1e3, 'K');
  return { text: grouped(n, Number.isInteger(n) ? 0 : keepCents ? 2 : 1), magnitude: '' };
}

const UNIT_ZH: Record<Unit, string> = {
  people: '人',
  yuan: '元',
  '%': '%',
  months: '个月',
  ratio: '',
  payments: '笔',
  alerts: '条',
  days: '天',
  score: '分',
  'sign-ups': '人次',
  records: '条'
};
const UNIT_EN: Record<Unit, string> = {
  people: 'people',
  yuan: 'yuan',
  '%': '%',
  months: 'months',
  ratio: '',
  payments: 'payments',
  alerts: 'alerts',
  days: 'days',
  score: '/ 5',
  'sign-ups': 'sign-ups',
  records: 'records'
};

export function unitLabel(unit: Unit, lang: Lang = 'zh'): string {
  return (lang === 'zh' ? UNIT_ZH : UNIT_EN)[unit] ?? '';
}

/** An indicator value split for display: the number and the unit text (with 万/亿 folded into the unit). */
export interface FormattedValue {
  number: string;
  unit: string;
  full: string;
}

export function formatValue(v: number | string | null | undefined, unit: Unit, lang: Lang = 'zh'): FormattedValue {
  const n = num(v);
  const join = (number: string, u: string): FormattedValue => ({
    number,
    unit: u,
    full: u ? (lang === 'en' && u !== '%' ? `${number} ${u}` : number + u) : number
  });
  if (n === null) return { number: MISSING, unit: '', full: MISSING };
  switch (unit) {
    case '%':
      return join(formatPercentNumber(n), '%');
    case 'ratio':
      return join(grouped(n, 2), '');
    case 'score':
      return join(grouped(n, 2), unitLabel(unit, lang));
    case 'months':
    case 'days':
      return join(grouped(n, 1), unitLabel(unit, lang));
    default: {
      const keepCents = unit === 'yuan';
      if (lang === 'en') {
        const m = englishMagnitude(n, keepCents);
        return join(m.text + m.magnitude, unitLabel(unit, lang));
      }
      const m = chineseMagnitude(n, { keepCents });
      return join(m.text, m.magnitude + unitLabel(unit, lang));
    }
  }
}

/** Percent value (already ×100) with sensible precision: 98.73 → "98.73", 100 → "100", 12.5 → "12.5". */
export function formatPercentNumber(p: number): string {
  const a = Math.abs(p);
  const d = a >= 90 && a < 100 ? 2 : a >= 10 ? 1 : 2; // near 100% (coverage, success rates) the second decimal is the story
  return trim(grouped(p, d)).replace(/^−?0$/, '0');
}

/** Money in yuan with two decimals: "1,234.56元" below 1万, "70.98万元", "4.56亿元" above. */
export function formatYuan(v: number | string | null | undefined, lang: Lang = 'zh'): string {
  return formatValue(v, 'yuan', lang).full;
}

/** Exact money, two decimals, thousands separators: "709,800.00". */
export function formatYuanExact(v: number | string | null | undefined): string {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) {
    // Format the decimal string itself: no float round-trip for money.
    const [i, f = ''] = v.trim().replace('-', '').split('.');
    const neg = v.trim().startsWith('-') && /[1-9]/.test(v);
    return (neg ? MINUS : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2);
  }
  const n = num(v);
  return n === null ? MISSING : grouped(n, 2);
}

/** A signed percent change: "+1.2%", "−9.4%", "0%". */
export function formatChange(p: number | null | undefined, decimals = 1): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return MISSING;
  const s = trim(Math.abs(p).toFixed(decimals));
  if (s === '0') return '0%';
  return (p > 0 ? '+' : MINUS) + s + '%';
}

const EN_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-10" → "2026年10月" / "Oct 2026". */
export function formatPeriod(period: string | null | undefined, lang: Lang = 'zh'): string {
  const m = /^(\d{4})-(\d{2})/.exec(period ?? '');
  if (!m) return MISSING;
  const month = Number(m[2]);
  return lang === 'zh' ? `${m[1]}年${month}月` : `${EN_MONTHS[month - 1]} ${m[1]}`;
}

/** A calendar day "2026-03-05" → "2026年3月5日" / "5 Mar 2026". */
export function formatDay(day: string | null | undefined, lang: Lang = 'zh'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  if (!m) return MISSING;
  const month = Number(m[2]),
    d = Number(m[3]);
  return lang === 'zh' ? `${m[1]}年${month}月${d}日` : `${d} ${EN_MONTHS[month - 1]} ${m[1]}`;
}

/**
 * A value of a people list's extra column: a month 'YYYY-MM' (2019年3月), a day 'YYYY-MM-DD'
 * (2019年3月5日), 'before YYYY-MM' — a date older than the data, which the system cannot know
 * (2024年12月以前 / before Dec 2024) — or other text as it is.
 */
export function formatListCell(v: string | null | undefined, lang: Lang = 'zh'): string {
  if (v == null || v === '') return MISSING;
  if (/^\d{4}-\d{2}$/.test(v)) return formatPeriod(v, lang);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return formatDay(v, lang);
  const before = /^before (\d{4}-\d{2})$/.exec(v);
  if (before) return lang === 'zh' ? `${formatPeriod(before[1], lang)}以前` : `before ${formatPeriod(before[1], lang)}`;
  return v;
}

/** Short period for chart axes: "10月" (or "26年1月" at a year change) / "Oct". */
export function formatPeriodShort(period: string, lang: Lang = 'zh', withYear = false): string {
  const m = /^(\d{4})-(\d{2})/.exec(period);
  if (!m) return period;
  const month = Number(m[2]);
  // ASCII apostrophe: the CJK font the screen uses draws ’ full-width ("Nov’ 25")
  if (lang === 'en') return withYear ? `${EN_MONTHS[month - 1]} '${m[1].slice(2)}` : EN_MONTHS[month - 1];
  return withYear ? `${m[1].slice(2)}年${month}月` : `${month}月`;
}

const TZ = 'Asia/Shanghai';

function shanghaiParts(d: Date): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'short',
    hourCycle: 'h23'
  }).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

const WEEKDAY_ZH: Record<string, string> = { Sun: '日', Mon: '一', Tue: '二', Wed: '三', Thu: '四', Fri: '五', Sat: '六' };

/** The header clock in Beijing time: { date: "2026年10月12日 星期一", time: "14:03:22" }. */
export function formatClock(d: Date, lang: Lang = 'zh'): { date: string; time: string } {
  const p = shanghaiParts(d);
  const time = `${p.hour}:${p.minute}:${p.second}`;
  if (lang === 'en') return { date: `${p.weekday} ${Number(p.day)} ${EN_MONTHS[Number(p.month) - 1]} ${p.year}`, time };
  return { date: `${p.year}年${Number(p.month)}月${Number(p.day)}日 星期${WEEKDAY_ZH[p.weekday]}`, time };
}

/** A timestamp in Beijing time: "10月12日 02:30" (same year as `now`) or "2025年10月12日 02:30". */
export function formatDateTime(iso: string | Date | null | undefined, lang: Lang = 'zh', now: Date = new Date()): string {
  if (!iso) return MISSING;
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return MISSING;
  const p = shanghaiParts(d);
  const sameYear = shanghaiParts(now).year === p.year;
  if (lang === 'en') return `${Number(p.day)} ${EN_MONTHS[Number(p.month) - 1]}${sameYear ? '' : ' ' + p.year} ${p.hour}:${p.minute}`;
  return `${sameYear ? '' : p.year + '年'}${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}`;
}

/** "3分钟前" / "3 min ago", for the alert ticker and freshness. */
export function formatAgo(iso: string | Date | null | undefined, now: Date = new Date(), lang: Lang = 'zh'): string {
  if (!iso) return MISSING;
  const d = iso instanceof Date ? iso : new Date(iso);
  const s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  if (Number.isNaN(s)) return MISSING;
  const zh = lang === 'zh';
  if (s < 60) return zh ? '刚刚' : 'just now';
  if (s < 3600) return zh ? `${Math.floor(s / 60)}分钟前` : `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return zh ? `${Math.floor(s / 3600)}小时前` : `${Math.floor(s / 3600)} h ago`;
  return zh ? `${Math.floor(s / 86400)}天前` : `${Math.floor(s / 86400)} d ago`;
}

/** Axis labels on charts: 1.2万, 3亿 — short, no unit. */
export function formatAxis(v: number, lang: Lang = 'zh'): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (lang === 'en') {
    if (a >= 1e9) return trim((v / 1e9).toFixed(2)) + 'B';
    if (a >= 1e6) return trim((v / 1e6).toFixed(a >= 1e8 ? 0 : a >= 1e7 ? 1 : 2)) + 'M';
    if (a >= 1e3) return trim((v / 1e3).toFixed(a >= 1e5 ? 0 : a >= 1e4 ? 1 : 2)) + 'K';
    return trim(v.toFixed(2));
  }
  if (a >= YI) return trim((v / YI).toFixed(2)) + '亿';
  if (a >= WAN) return trim((v / WAN).toFixed(a >= 1e7 ? 0 : a >= 1e6 ? 1 : a >= 1e5 ? 2 : 3)) + '万';
  return trim(v.toFixed(2));
}

/**
 * A threshold reason short enough for a tile's one line (the full text stays in the tooltip):
 * drops what the tile already shows (the current value, the severity word, the trailing window).
 *   "异常波动：较近12期中位数 −12.3%（稳健Z值 −3.8），预警阈值 ±3" → "异常波动 −12.3%（Z −3.8）"
 *   "当前值 0.43，严重：低于 1.5" → "低于 1.5"
 * Text it does not recognise comes back unchanged.
 */
export function shortReason(reason: string | null | undefined, lang: Lang = 'zh'): string {
  if (!reason) return '';
  let s = reason.trim();
  if (lang === 'zh') {
    s = s.replace(/^当前值\s*[^，,]*[，,]\s*/, '');
    s = s.replace(/^(严重|预警)[：:]\s*/, '');
    s = s.replace(
      /异常波动[：:]\s*较近\d+期中位数\s*(\S+?)（稳健Z值\s*([^）]+)）[，,]\s*(?:预警|严重)?阈值\s*±[\d.]+/g,
      '异常波动 $1（Z $2）'
    );
    s = s.replace(/[，,]\s*(?:预警|严重)[：:]?\s*/, '，');
  } else {
    s = s.replace(/^value\s*[^,]*,\s*/i, '');
    s = s.replace(/^(critical|warn)\s+/i, '');
    s = s.replace(
      /Abnormal fluctuation:\s*(\S+) vs the trailing-\d+ median \(robust z ([^)]+)\),\s*(?:critical|warn)\s+beyond ±[\d.]+/gi,
      'Abnormal fluctuation $1 (z $2)'
    );
  }
  return s;
}
