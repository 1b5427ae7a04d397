// Free text that staff type (visit notes, places; the workbench's comments later) must not carry an
// ID number or a phone number: notes are shown to other people and kept for years, and the person's
// ID number and phone already live in their record, where access to them is controlled and audit-logged.
// Pure; the service that stores the text calls it and refuses with the message (the database keeps a
// coarser check of its own: no run of 11 or more digits).
//
// What counts, after NFKC (full-width digits become ASCII):
//   - an ID number: 18 characters (17 digits and a digit or X) or 15 digits, also written in groups
//     6-8-4 separated by spaces or dashes;
//   - a mobile number: 11 digits starting 13–19, optionally +86 / 86 before it, also in groups 3-4-4;
//   - a landline: an area code (0 and 2–3 digits) and 7–8 digits, with or without a separator or brackets;
//   - a bare run of 7 or 8 digits (a local number) unless it is a date written YYYYMMDD;
//   - any other run of 9 or more digits (an account or card number, part of an ID number).
// Dates (2026-12-04, 2026年12月4日), amounts and house numbers pass.

import { HttpError } from '../errors.ts';

export type FreeTextProblem = 'id_number' | 'phone' | 'long_number';

export interface FreeTextCheck {
  ok: boolean;
  problem?: FreeTextProblem;
  /** What to tell the person typing, Chinese and English. */
  message?: string;
}

const D = '(?<![0-9])';
const E = '(?![0-9])';
const SEP = '[ \\-]?';

const ID_NUMBER = [new RegExp(`${D}[0-9]{6}${SEP}[0-9]{8}${SEP}[0-9]{3}[0-9Xx]${E}`), new RegExp(`${D}[0-9]{15}${E}`)];
const PHONE = [
  new RegExp(`${D}(?:\\+?86[ \\-]?)?1[3-9][0-9]${SEP}[0-9]{4}${SEP}[0-9]{4}${E}`),
  new RegExp(`${D}[(（]?0[0-9]{2,3}[)）]?${SEP}[0-9]{7,8}${E}`)
];
const BARE_LOCAL = new RegExp(`${D}[0-9]{7,8}${E}`, 'g');
const LONG = new RegExp(`[0-9]{9,}`);

const MESSAGES: Record<FreeTextProblem, string> = {
  id_number: '备注里不能写身份证号：本人的证件号已在档案中。Notes must not contain an ID number: it is in the record already.',
  phone: '备注里不能写电话号码：联系电话请在档案中更新。Notes must not contain a phone number: phones belong in the record.',
  long_number: '备注里不能写长串数字（证件号、电话、账号）。Notes must not contain long numbers (ID, phone or account numbers).'
};

function isDateYmd(s: string): boolean {
  if (s.length !== 8) return false;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(4, 6));
  const d = Number(s.slice(6, 8));
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Does this text carry an ID number or a phone number? `ok: false` with the problem and a message. */
export function checkFreeText(text: string | null | undefined): FreeTextCheck {
  if (!text) return { ok: true };
  const t = text.normalize('NFKC');
  const fail = (problem: FreeTextProblem): FreeTextCheck => ({ ok: false, problem, message: MESSAGES[problem] });
  if (ID_NUMBER.some((re) => re.test(t))) return fail('id_number');
  if (PHONE.some((re) => re.test(t))) return fail('phone');
  for (const m of t.matchAll(BARE_LOCAL)) if (!isDateYmd(m[0])) return fail('phone');
  if (LONG.test(t)) return fail('long_number');
  return { ok: true };
}

/**
 * The services' guard (the workbench's reasons and notes): throw an HttpError 400 with checkFreeText's
 * message when the text carries an ID number or a phone number; do nothing otherwise.
 */
export function refusePersonalData(text: string | null | undefined): void {
  const r = checkFreeText(text);
  if (!r.ok) throw new HttpError(400, r.message!, `free_text_${r.problem}`);
}
