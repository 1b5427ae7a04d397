// Masking of personal data for roles (and exports) that may not see it. Pure; the decision of
// *whether* to mask belongs to the caller, which audit-logs every unmasked view.
import { maskIdNumber } from './id-number.ts';

export { maskIdNumber };

/** Every ID number inside a free text (a raw feed line, a reason, a list of ids) masked where it stands. */
export function maskIdNumbersIn(text: string | null): string | null {
  return text === null ? null : text.replace(/\d{6}(\d{8})\d{3}[\dXx]/g, (m) => maskIdNumber(m.toUpperCase()));
}

/** 张三 → 张*, 欧阳小明 → 欧**明: keep the surname's first character and, for 3+ characters, the last. */
export function maskName(name: string | null | undefined): string | null {
  if (!name) return name ?? null;
  const chars = Array.from(name);
  if (chars.length <= 2) return chars[0] + '*'.repeat(chars.length - 1);
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1];
}

/** 13812345678 → 138****5678 */
export function maskPhone(phone: string | null | undefined): string | null {
  if (!phone) return phone ?? null;
  if (phone.length < 7) return '*'.repeat(phone.length);
  return phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4);
}
