// Cells that reach a spreadsheet (CSV and Excel exports) must never run as formulas: a name or a
// raw feed line beginning with = + - @ (or a tab or carriage return, which spreadsheets skip before
// such a sign) is prefixed with an apostrophe, which shows as nothing and keeps the text as text.
// Plain numbers (-12.50, +3) are left alone: they are data, not formulas. Every export goes through
// spreadsheetCell(); it is the one writer of such cells.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/;

export function spreadsheetCell(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}
