// Loads the reference catalogues (core/reference/*.json) into ref_* tables. Idempotent:
// run after every migration so a deployment's edited catalogue takes effect on restart.
import { evidenceKinds, evidenceSources, schemes, subsidyProjects } from './index.ts';
import { withTransaction, type Pool } from '../db/pool.ts';
import { loadRules } from './rules.ts';

export async function loadCatalogues(pool: Pool): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query(
      `INSERT INTO ref_schemes (scheme_code, name_zh, name_en, exclusive_group, is_pension)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(code text, name_zh text, name_en text, exclusive_group text, is_pension boolean)
       ON CONFLICT (scheme_code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
         exclusive_group = EXCLUDED.exclusive_group, is_pension = EXCLUDED.is_pension`,
      [JSON.stringify(schemes)]
    );
    await c.query(
      `INSERT INTO ref_subsidy_projects (project_code, name_zh, name_en, per, amount, eligibility)
       SELECT code, name_zh, name_en, per, amount::numeric, eligibility
       FROM jsonb_to_recordset($1::jsonb) AS x(code text, name_zh text, name_en text, per text, amount text, eligibility jsonb)
       ON CONFLICT (project_code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
         per = EXCLUDED.per, amount = EXCLUDED.amount, eligibility = EXCLUDED.eligibility`,
      [JSON.stringify(subsidyProjects)]
    );
    await c.query(
      `INSERT INTO ref_evidence_kinds (kind, strength, name_zh)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(kind text, strength text, name_zh text)
       ON CONFLICT (kind) DO UPDATE SET strength = EXCLUDED.strength, name_zh = EXCLUDED.name_zh`,
      [JSON.stringify(evidenceKinds)]
    );
    await c.query(
      `INSERT INTO ref_evidence_sources (source_code, name_zh, department)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(code text, name_zh text, department text)
       ON CONFLICT (source_code) DO UPDATE SET name_zh = EXCLUDED.name_zh, department = EXCLUDED.department`,
      [JSON.stringify(evidenceSources)]
    );
    // The engines' rule configuration (core/reference/rules.json): an edited file takes effect on restart.
    await loadRules(c, { overwrite: true });
  });
}
