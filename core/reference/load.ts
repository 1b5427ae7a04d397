// Loads the reference catalogues (core/reference/*.json) into ref_* tables. Idempotent:
// run after every migration so a deployment's edited catalogue takes effect on restart.
import {
  alertDispositions,
  alertSla,
  alertStates,
  alertTransitions,
  evidenceKinds,
  evidenceSources,
  schemes,
  subsidyProjects,
  workingCalendar
} from './index.ts';
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
    // The alert lifecycle: the trigger of migration 0021 refuses any status change not listed here.
    await c.query(
      `INSERT INTO ref_alert_states (status, phase, engine_active, sla_paused, name_zh, name_en)
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS x(status text, phase text, engine_active boolean, sla_paused boolean, name_zh text, name_en text)
       ON CONFLICT (status) DO UPDATE SET phase = EXCLUDED.phase, engine_active = EXCLUDED.engine_active,
         sla_paused = EXCLUDED.sla_paused, name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en`,
      [JSON.stringify(alertStates)]
    );
    await c.query(`DELETE FROM ref_alert_transitions`);
    await c.query(
      `INSERT INTO ref_alert_transitions (action, from_status, to_status, four_eyes)
       SELECT x.action, f.from_status, x."to", x.four_eyes
         FROM jsonb_to_recordset($1::jsonb) AS x(action text, "from" text[], "to" text, four_eyes boolean),
              unnest(x."from") AS f(from_status)`,
      [JSON.stringify(alertTransitions)]
    );
    await c.query(
      `INSERT INTO ref_alert_dispositions (code, grp, name_zh, name_en, follow_up, system_only, review_days)
       SELECT code, "group", name_zh, name_en, follow_up, system_only, review_days FROM jsonb_to_recordset($1::jsonb)
         AS x("group" text, code text, name_zh text, name_en text, follow_up text, system_only boolean, review_days integer)
       ON CONFLICT (code) DO UPDATE SET grp = EXCLUDED.grp, name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
         follow_up = EXCLUDED.follow_up, system_only = EXCLUDED.system_only, review_days = EXCLUDED.review_days`,
      [JSON.stringify(alertDispositions)]
    );
    // The workbench's SLA (alert-sla.json) and its working-day calendar (holidays-cn.json): view alert_sla.
    await c.query(
      `INSERT INTO ref_alert_sla_priorities (priority, ack_working_days, act_working_days, act_by, name_zh)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(priority text, ack_working_days int, act_working_days int, act_by text, name_zh text)
       ON CONFLICT (priority) DO UPDATE SET ack_working_days = EXCLUDED.ack_working_days, act_working_days = EXCLUDED.act_working_days,
         act_by = EXCLUDED.act_by, name_zh = EXCLUDED.name_zh`,
      [JSON.stringify(alertSla.priorities)]
    );
    await c.query(`DELETE FROM ref_alert_sla_rules`);
    await c.query(`INSERT INTO ref_alert_sla_rules (rule, priority) SELECT key, value FROM jsonb_each_text($1::jsonb)`, [
      JSON.stringify(alertSla.rules)
    ]);
    await c.query(
      `INSERT INTO ref_alert_sla_settings (one, payroll_day, remind_at_fraction) VALUES (true, $1, $2)
       ON CONFLICT (one) DO UPDATE SET payroll_day = EXCLUDED.payroll_day, remind_at_fraction = EXCLUDED.remind_at_fraction`,
      [alertSla.payrollDayOfMonth, alertSla.remindAtFraction]
    );
    await c.query(
      `INSERT INTO ref_calendar (day, working) SELECT day, working FROM jsonb_to_recordset($1::jsonb) AS x(day date, working boolean)
       ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working`,
      [JSON.stringify(workingCalendar())]
    );
    // the SLA due dates kept per alert (alert_sla_clock, migration 0032) follow a changed calendar or catalogue
    await c.query(`SELECT alert_sla_refresh()`);
    // The engines' rule configuration (core/reference/rules.json): an edited file takes effect on restart.
    await loadRules(c, { overwrite: true });
  });
}
