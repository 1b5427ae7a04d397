import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { schemaVersion } from '../jobs/db/migrate.ts';

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
  it('runs on plain PostgreSQL when TimescaleDB is absent', async () => {
    const r = await db.pool.query(`SELECT yinling_has_timescale() AS ts, current_setting('TimeZone') AS tz`);
    expect(r.rows[0].tz).toBe('Asia/Shanghai');
    expect(typeof r.rows[0].ts).toBe('boolean');
  });
});
