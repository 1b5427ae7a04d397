// Shared set-up of the workbench tests: an area, two auditors, an admin, a staff and a leader account.
import type { Pool } from '../core/db/pool.ts';
import { createUser } from '../core/accounts.ts';
import type { WorkbenchActor } from '../core/workflow/alerts.ts';

export const CITY = '330600000000';
export const COMMUNITY = '330681001001';

export async function workbenchUsers(pool: Pool): Promise<Record<'maker' | 'checker' | 'admin' | 'staff' | 'leader', WorkbenchActor>> {
  await pool.query(
    `INSERT INTO regions (code, name, level, parent_code) VALUES
       ('330600000000', '测试市', 'city', NULL), ('330681000000', '诸暨市', 'district', '330600000000'),
       ('330681001000', '暨阳街道', 'town', '330681000000'), ('330681001001', '东一社区', 'community', '330681001000')
     ON CONFLICT DO NOTHING`
  );
  await pool.query(`REFRESH MATERIALIZED VIEW region_paths`);
  const op = { type: 'operator' as const, name: 'test' };
  const users = [
    ['auditor-a', 'auditor'],
    ['auditor-b', 'auditor'],
    ['admin-c', 'admin'],
    ['staff-d', 'staff'],
    ['leader-e', 'leader']
  ] as const;
  for (const [username, role] of users)
    await createUser(pool, op, { username, role, regionCode: role === 'staff' ? '330681000000' : CITY, password: 'workbench-test-pw' });
  return {
    maker: { user: 'auditor-a', role: 'auditor' },
    checker: { user: 'auditor-b', role: 'auditor' },
    admin: { user: 'admin-c', role: 'admin' },
    staff: { user: 'staff-d', role: 'staff' },
    leader: { user: 'leader-e', role: 'leader' }
  };
}

export async function versionOf(pool: Pool, alertId: number): Promise<number> {
  return (await pool.query(`SELECT version FROM alerts WHERE alert_id = $1`, [alertId])).rows[0].version;
}
