import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { schemaVersion } from '../jobs/db/migrate.ts';
import { alertRuleNames } from '../seeds/catalogues/index.ts';

let db: TestDatabase;
beforeAll(async () => { db = await freshDatabase(); });
afterAll(async () => { await db?.drop(); });

describe('schema', () => {
  it('is migrated to the newest version with catalogues loaded', async () => {
    expect(await schemaVersion(db.pool)).toMatch(/^\d{4}_/);
    const r = await db.pool.query(`SELECT (SELECT count(*) FROM ref_evidence_sources) AS sources, (SELECT count(*) FROM ref_schemes) AS schemes`);
    expect(Number(r.rows[0].sources)).toBeGreaterThanOrEqual(20);
    expect(Number(r.rows[0].schemes)).toBe(7);
  });
  it('names every risk rule the alerts table accepts, in Chinese and English, and no other', async () => {
    const r = await db.pool.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'alerts'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%rule%'`);
    const accepted = [...String(r.rows[0].def).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(accepted.length).toBeGreaterThanOrEqual(7);
    expect([...alertRuleNames.keys()].sort()).toEqual(accepted);
    for (const n of alertRuleNames.values()) expect(n.name_zh && n.name_en, n.rule).toBeTruthy();
  });
  it('runs on plain PostgreSQL when TimescaleDB is absent', async () => {
    const r = await db.pool.query(`SELECT yinling_has_timescale() AS ts, current_setting('TimeZone') AS tz`);
    expect(r.rows[0].tz).toBe('Asia/Shanghai');
    expect(typeof r.rows[0].ts).toBe('boolean');
  });
});
