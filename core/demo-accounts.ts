// Demo staff accounts, one per role, created with the demo city so a fresh `npm start` can be
// signed into at once. Their passwords are public (printed at start, in the README): demo only.
import type { Pool } from './db/pool.ts';
import { createUser, type Role } from './accounts.ts';

export const DEMO_ACCOUNTS: { username: string; role: Role; scope: 'city' | 'district'; password: string; displayName: string }[] = [
  { username: 'demo-leader', role: 'leader', scope: 'city', password: 'yinling-leader-demo', displayName: '演示·局领导' },
  { username: 'demo-auditor', role: 'auditor', scope: 'city', password: 'yinling-auditor-demo', displayName: '演示·基金稽核' },
  { username: 'demo-staff', role: 'staff', scope: 'district', password: 'yinling-staff-demo', displayName: '演示·区经办' },
  { username: 'demo-admin', role: 'admin', scope: 'city', password: 'yinling-admin-demo', displayName: '演示·系统管理员' }
];

/** Create the demo accounts that are missing; returns the lines to print. */
export async function ensureDemoAccounts(pool: Pool): Promise<string[]> {
  const city = await pool.query(`SELECT code FROM regions WHERE level = 'city' ORDER BY code LIMIT 1`);
  const district = await pool.query(`SELECT code, name FROM regions WHERE level = 'district' ORDER BY code LIMIT 1`);
  if (!city.rowCount) return [];
  const lines: string[] = [];
  for (const a of DEMO_ACCOUNTS) {
    const region = a.scope === 'city' || !district.rowCount ? city.rows[0].code : district.rows[0].code;
    const exists = await pool.query(`SELECT region_code FROM staff_users WHERE username = $1`, [a.username]);
    if (!exists.rowCount) {
      await createUser(
        pool,
        { type: 'system', name: 'demo-seed' },
        { username: a.username, role: a.role, regionCode: region, password: a.password, displayName: a.displayName }
      );
    }
    lines.push(
      `  ${a.role.padEnd(8)} ${a.username.padEnd(13)} password ${a.password.padEnd(22)} scope ${exists.rows[0]?.region_code ?? region}`
    );
  }
  return lines;
}
