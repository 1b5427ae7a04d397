// Demo staff accounts, one per role (two auditors, for the workbench's four eyes), created with the demo city so a fresh `npm start` can be
// signed into at once. Each gets a random password when it is created (never a fixed one: a
// published password is a way in to whoever forgets to turn the demo off); the passwords are kept in
// a file readable by the operator only, so `npm start` can print them again on every start.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Pool } from './db/pool.ts';
import { createUser, setPassword, type Role } from './accounts.ts';

export const DEMO_ACCOUNTS: { username: string; role: Role; scope: 'city' | 'district'; displayName: string }[] = [
  { username: 'demo-leader', role: 'leader', scope: 'city', displayName: '演示·局领导' },
  { username: 'demo-auditor', role: 'auditor', scope: 'city', displayName: '演示·基金稽核' },
  // the second auditor: approves what demo-auditor proposes (the workbench's four eyes: a maker never checks their own)
  { username: 'demo-checker', role: 'auditor', scope: 'city', displayName: '演示·基金稽核（复核）' },
  { username: 'demo-staff', role: 'staff', scope: 'district', displayName: '演示·区经办' },
  { username: 'demo-admin', role: 'admin', scope: 'city', displayName: '演示·系统管理员' }
];

export interface DemoLogin {
  role: Role;
  username: string;
  password: string;
  regionCode: string;
  regionName: string;
}

/** 12 characters from an unambiguous alphabet (no 0/O, 1/l/I), grouped for reading aloud. */
export function randomPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const b = randomBytes(12);
  const s = Array.from(b, (x) => alphabet[x % alphabet.length]).join('');
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
}

function readPasswords(file: string | undefined): Record<string, string> {
  if (!file || !fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/**
 * Create the demo accounts that are missing, with random passwords kept in `passwordFile` (mode 0600)
 * when given, and return every demo account with its password.
 */
export async function ensureDemoAccounts(pool: Pool, opts: { passwordFile?: string } = {}): Promise<DemoLogin[]> {
  const city = await pool.query(`SELECT code, name FROM regions WHERE level = 'city' ORDER BY code LIMIT 1`);
  const district = await pool.query(`SELECT code, name FROM regions WHERE level = 'district' ORDER BY code LIMIT 1`);
  if (!city.rowCount) return [];
  const known = readPasswords(opts.passwordFile);
  let changed = false;
  const logins: DemoLogin[] = [];
  for (const a of DEMO_ACCOUNTS) {
    const region = a.scope === 'city' || !district.rowCount ? city.rows[0] : district.rows[0];
    const exists = await pool.query(
      `SELECT u.region_code, r.name FROM staff_users u LEFT JOIN regions r ON r.code = u.region_code WHERE u.username = $1`,
      [a.username]
    );
    let password = known[a.username];
    if (!exists.rowCount || !password) {
      // a new account, or one whose password file is gone: a demo account simply gets a new password
      password = randomPassword();
      const actor = { type: 'system', name: 'demo-seed' } as const;
      if (exists.rowCount) await setPassword(pool, actor, a.username, password);
      else
        await createUser(pool, actor, {
          username: a.username,
          role: a.role,
          regionCode: region.code,
          password,
          displayName: a.displayName
        });
      known[a.username] = password;
      changed = true;
    }
    logins.push({
      role: a.role,
      username: a.username,
      password,
      regionCode: exists.rows[0]?.region_code ?? region.code,
      regionName: exists.rows[0]?.name ?? region.name
    });
  }
  if (changed && opts.passwordFile) {
    fs.mkdirSync(path.dirname(opts.passwordFile), { recursive: true });
    fs.writeFileSync(opts.passwordFile, JSON.stringify(known, null, 2) + '\n', { mode: 0o600 });
  }
  return logins;
}
