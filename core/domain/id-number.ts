// Resident identity numbers (GB 11643-1999): validation, 15→18 conversion, sex and birth date.
// Pure and I/O-free: shared by ingestion, the engines, the synthetic-city generator and the dashboard.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

export type IdNumberResult =
  { ok: true; value: string; birthDate: string; sex: 'M' | 'F'; converted: boolean } | { ok: false; reason: string };

/** ISO 7064 MOD 11-2 check character for the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function validCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/**
 * Parse an identity number as delivered in a feed. Accepts a lower-case `x`, converts a
 * 15-digit legacy number to 18 digits; anything else is invalid with a specific reason.
 */
export function parseIdNumber(raw: string): IdNumberResult {
  const s = raw.trim().toUpperCase();
  let value: string;
  let converted = false;
  if (/^\d{15}$/.test(s)) {
    const first17 = s.slice(0, 6) + '19' + s.slice(6);
    value = first17 + checkCharacter(first17);
    converted = true;
  } else if (/^\d{17}[\dX]$/.test(s)) {
    value = s;
  } else if (s.length !== 15 && s.length !== 18) {
    return { ok: false, reason: `id_number must have 18 characters (or 15 digits for a legacy number), got ${s.length}` };
  } else {
    return { ok: false, reason: 'id_number contains characters other than digits and a final X' };
  }
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  if (!validCalendarDate(y, m, d) || y < 1880) {
    return { ok: false, reason: `id_number holds an impossible birth date ${value.slice(6, 14)}` };
  }
  if (!converted) {
    const expected = checkCharacter(value.slice(0, 17));
    if (value[17] !== expected) {
      return { ok: false, reason: `id_number check character is ${value[17]}, expected ${expected}` };
    }
  }
  const birthDate = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  const sex = Number(value[16]) % 2 === 1 ? 'M' : 'F';
  return { ok: true, value, birthDate, sex, converted };
}

/** Build a valid 18-character number (for generators and tests). */
export function makeIdNumber(region6: string, birthDate: string, sequence3: number): string {
  const first17 = region6 + birthDate.replaceAll('-', '') + String(sequence3).padStart(3, '0');
  return first17 + checkCharacter(first17);
}

/** The 15-digit legacy form of an 18-digit number born in the 1900s (for generators and tests). */
export function toLegacy15(id18: string): string {
  if (id18.slice(6, 8) !== '19') throw new Error('only 19xx birth years have a 15-digit form');
  return id18.slice(0, 6) + id18.slice(8, 17);
}

/** Mask for display to roles that may not see it: keep region prefix and last two. */
export function maskIdNumber(id: string): string {
  if (id.length < 8) return '*'.repeat(id.length);
  return id.slice(0, 4) + '*'.repeat(id.length - 6) + id.slice(-2);
}
