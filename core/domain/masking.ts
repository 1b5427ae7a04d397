// Masking of personal data for roles (and exports) that may not see it. Pure; the decision of
// *whether* to mask belongs to the caller, which audit-logs every unmasked view.
export { maskIdNumber } from './id-number.ts';

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
