// What `yinling up` tells the person at the terminal: a short, calm summary (what was loaded, what
// the demo's planted bad rows are, where to sign in and with which account), while every detail —
// the build's output, each migration, each file ingested, each engine step — goes to a log file.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Pool } from '../../core/db/pool.ts';
import type { DemoLogin } from '../../core/demo-accounts.ts';
import type { JobResult } from '../runner.ts';
import { maskIdNumber, maskName } from '../../core/domain/masking.ts';
import { reportDeath } from '../../core/workflow/death-reports.ts';

const stamp = () => new Date().toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

/** Lines of the detail worth the terminal too: where the database lives and why, and a crashed server. */
const TO_TERMINAL = /^(Starting the embedded PostgreSQL|Using the embedded PostgreSQL|\[postgres\])/;

export interface StartLog {
  /** The log file's path. */
  file: string;
  /** A line for the terminal (and the file). */
  say(message: string): void;
  /** A line for the file only (unless it is one the terminal must see). */
  detail(message: string): void;
  close(): void;
}

export function openStartLog(config: Config): StartLog {
  const dir = path.join(config.dataDir, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'up.log');
  const fd = fs.openSync(file, 'a', 0o600);
  // A full disk (or any write error) must not take `up` down — these lines are also written from the handler
  // that restarts a child that exited. The line still goes to the terminal when it is one for the terminal;
  // the trouble is said once, on the terminal, and in the file once it can be written again.
  let lost = 0;
  const write = (m: string) => {
    try {
      if (lost) {
        fs.writeSync(
          fd,
          `${new Date().toISOString()} (${lost} line${lost > 1 ? 's' : ''} could not be written to this file: disk full or unwritable)\n`
        );
        lost = 0;
      }
      fs.writeSync(fd, `${new Date().toISOString()} ${m}\n`);
    } catch (e) {
      if (!lost)
        console.error(
          `[${stamp()}] could not write to ${file} (${(e as Error).message}); its lines are lost until it can be written again`
        );
      lost++;
    }
  };
  write(`--- yinling up (pid ${process.pid}) ---`);
  return {
    file,
    say(m) {
      console.log(`[${stamp()}] ${m}`);
      write(m);
    },
    detail(m) {
      if (TO_TERMINAL.test(m)) console.log(`[${stamp()}] ${m}`);
      write(m);
    },
    close() {
      fs.closeSync(fd);
    }
  };
}

const n = (x: number | string) => Number(x).toLocaleString('en-US');

/** One paragraph on the first ingest: files, rows, the quarantine, and the engines after it. */
export async function ingestSummary(pool: Pool, results: JobResult[], demo: boolean): Promise<string[]> {
  const [ingest, ...after] = results;
  const f = await pool.query(
    `SELECT count(*) FILTER (WHERE status = 'loaded')::int AS loaded, count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
            COALESCE(sum(rows_loaded), 0)::bigint AS rows, (SELECT count(*) FROM quarantine WHERE line_no IS NOT NULL)::int AS bad_rows,
            (SELECT count(*) FROM persons)::int AS persons
       FROM ingest_files`
  );
  const s = f.rows[0];
  const lines = [
    `Loaded ${n(s.loaded)} files (${n(s.rows)} rows, ${n(s.persons)} people) in ${((ingest?.durationMs ?? 0) / 1000).toFixed(0)} s.`
  ];
  if (s.bad_rows || s.rejected) {
    const what = `${n(s.bad_rows)} bad rows and ${n(s.rejected)} unreadable files went to the quarantine with their reasons`;
    lines.push(
      demo
        ? `  ${what} — on purpose: the demo city plants them to show that nothing is lost (yinling export quarantine).`
        : `  ${what} (yinling export quarantine).`
    );
  }
  const failed = after.filter((r) => r.status === 'failed');
  const seconds = after.reduce((t, r) => t + r.durationMs, 0) / 1000;
  lines.push(
    failed.length
      ? `  ${failed.length} of ${after.length} jobs after it FAILED: ${failed.map((r) => r.error).join('; ')} (details in the log).`
      : `  Engines and indicator facts: ${after.length} jobs ok in ${seconds.toFixed(0)} s.`
  );
  return lines;
}

/** The demo accounts as a small table: role, account, password, area. */
export function demoAccountLines(logins: DemoLogin[], url: string, passwordFile: string): string[] {
  const w = (xs: string[]) => Math.max(...xs.map((x) => x.length));
  const wr = w(['role', ...logins.map((l) => l.role)]);
  const wu = w(['account', ...logins.map((l) => l.username)]);
  const wp = w(['password', ...logins.map((l) => l.password)]);
  const row = (a: string, b: string, c: string, d: string) => `  ${a.padEnd(wr)}  ${b.padEnd(wu)}  ${c.padEnd(wp)}  ${d}`;
  const lines = [
    `Demo accounts — sign in at ${url}/login (passwords were generated for this installation; kept in ${passwordFile}):`,
    row('role', 'account', 'password', 'area'),
    ...logins.map((l) => row(l.role, l.username, l.password, `${l.regionName ?? l.regionCode} (${l.regionCode})`))
  ];
  return lines;
}

/** The demo residents, one per situation the portal shows, in a file (full ID numbers) and masked on the terminal. */
export async function demoResidentLines(pool: Pool, url: string, file: string): Promise<string[]> {
  // one person per situation: someone already listed is not picked again (a suspended person may also have a subsidy to claim)
  const taken: string[] = [];
  const pick = async (where: string): Promise<{ id_number: string; name: string } | undefined> =>
    (
      await pool.query(
        `SELECT p.id_number, p.name FROM persons p LEFT JOIN cert_status c USING (id_number)
          WHERE p.phone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.id_number = p.id_number) AND p.id_number <> ALL($1::text[])
            AND ${where}
          ORDER BY p.id_number LIMIT 1`,
        [taken]
      )
    ).rows[0];
  const kinds: [string, string][] = [
    [
      'certified silently',
      `c.status = 'certified' AND c.method = 'silent' AND cardinality(c.evidence_ids) > 0 AND c.valid_until > current_date + 31`
    ],
    ['due soon', `c.status = 'certified' AND c.valid_until BETWEEN current_date AND current_date + 30`],
    ['suspended', `EXISTS (SELECT 1 FROM enrollments e WHERE e.id_number = p.id_number AND e.status = 'suspended')`],
    [
      'a subsidy to claim',
      `EXISTS (SELECT 1 FROM subsidy_matches m JOIN ref_subsidy_projects r USING (project_code) WHERE m.id_number = p.id_number AND m.category = 'eligible_not_receiving' AND r.per = 'month')`
    ],
    [
      // the feeds carry no household link: the portal's own data does — a death this resident reported as the
      // surviving spouse (fileDemoSpouseReport files one at demo start, through the death report service)
      'whose spouse died',
      // (the reporters listed once and hashed: an EXISTS probing every case's json for each of the city's
      // persons took 2.5 minutes of the demo start)
      `p.id_number IN (SELECT k.detail -> 'report' ->> 'reporter_id' FROM cases k
                         WHERE k.kind = 'after_death' AND k.detail -> 'report' ->> 'relation' = 'spouse'
                       UNION ALL
                       SELECT f ->> 'reporter_id' FROM cases k, jsonb_array_elements(COALESCE(k.detail -> 'further_reports', '[]')) f
                         WHERE k.kind = 'after_death' AND f ->> 'relation' = 'spouse')`
    ]
  ];
  const found: { situation: string; id_number: string; name: string }[] = [];
  for (const [situation, where] of kinds) {
    const p = await pick(where);
    if (p) {
      found.push({ situation, ...p });
      taken.push(p.id_number);
    }
  }
  if (!found.length) return [];
  fs.writeFileSync(file, JSON.stringify(found, null, 2) + '\n', { mode: 0o600 });
  const w = Math.max(...found.map((f) => f.situation.length));
  return [
    `Demo residents — sign in at ${url}/portal with the ID number (full numbers in ${file}); the code: yinling sms outbox`,
    ...found.map((f) => `  ${f.situation.padEnd(w)}  ${maskIdNumber(f.id_number)}  ${maskName(f.name)}`)
  ];
}

/**
 * The demo's "spouse died" resident, made honest through the portal's own data (the feeds carry no
 * household link): once per database, a demo resident — alive, with a phone, not yet a reporter —
 * reports through the death report service the death of a demo person who has a department death record
 * and an open after-death case, as the surviving spouse, with the resident's own pension account for the
 * funeral grant. The report joins the case (no hold, no workbench item: a record confirmed the death
 * already). Returns the reporter's ID number, or null when the demo city has no such pair.
 */
export async function fileDemoSpouseReport(pool: Pool): Promise<string | null> {
  const done = await pool.query(
    `SELECT 1 FROM cases WHERE kind = 'after_death'
        AND (detail -> 'report' @> '{"relation": "spouse", "demo": true}' OR detail -> 'further_reports' @> '[{"relation": "spouse", "demo": true}]')`
  );
  if (done.rowCount) return null;
  const dead = (
    await pool.query(
      `SELECT c.id_number, to_char(c.death_date, 'YYYY-MM-DD') AS death_date, p.sex
         FROM cases c JOIN persons p USING (id_number)
        WHERE c.kind = 'after_death' AND c.status = 'open' AND c.death_date IS NOT NULL AND c.funeral_grant > 0
        ORDER BY c.id_number LIMIT 1`
    )
  ).rows[0];
  if (!dead) return null;
  // a spouse of the other sex, close in age, alive, with a phone and a pension account of their own
  const spouse = (
    await pool.query(
      `SELECT p.id_number, p.name, p.phone, e.account_no FROM persons p
         JOIN enrollments e ON e.id_number = p.id_number AND e.status = 'active' AND e.account_no IS NOT NULL
         JOIN persons d ON d.id_number = $1
        WHERE p.phone IS NOT NULL AND p.sex IS DISTINCT FROM d.sex AND p.id_number <> d.id_number
          AND NOT EXISTS (SELECT 1 FROM deaths x WHERE x.id_number = p.id_number)
          AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.id_number = p.id_number)
        ORDER BY abs(p.birth_date - d.birth_date), p.id_number LIMIT 1`,
      [dead.id_number]
    )
  ).rows[0];
  if (!spouse) return null;
  const r = await reportDeath(pool, {
    id_number: dead.id_number,
    reporter: spouse.name,
    reporter_id: spouse.id_number,
    relation: 'spouse',
    death_date: dead.death_date,
    phone: spouse.phone,
    place: '家中',
    bank_name: '养老金发放账户',
    bank_account: spouse.account_no,
    survivor: `spouse: ${spouse.name}`
  });
  // marks the demo's report, so a restart does not file another
  await pool.query(
    `UPDATE cases SET detail = CASE WHEN $2 THEN jsonb_set(detail, '{report,demo}', 'true')
                                    ELSE jsonb_set(detail, '{further_reports}', (SELECT jsonb_agg(CASE WHEN f->>'reporter_id' = $3 THEN f || '{"demo": true}' ELSE f END)
                                                                                  FROM jsonb_array_elements(detail->'further_reports') f)) END
      WHERE case_id = $1`,
    [r.case_id, r.created, spouse.id_number]
  );
  return spouse.id_number;
}

/**
 * The demo city's pre-payroll check (issue 17): the check of the newest draft's period, prepared by the demo
 * auditor and left for a second auditor to approve on the workbench (four eyes) — what `yinling up` runs
 * once after loading the demo city. Returns the terminal's line.
 */
export async function demoPayrollCheck(
  pool: Pool,
  run: (period: string) => Promise<{ run_no: number; held_lines: number; held_amount: string; lines: number }>,
  url: string
): Promise<string[]> {
  const p = await pool.query(`SELECT to_char(max(period), 'YYYY-MM-DD') AS period FROM payroll_draft`);
  const period: string | null = p.rows[0].period;
  if (!period) return [];
  const r = await run(period);
  return [
    `Pre-payroll check for ${period.slice(0, 7)}: run ${r.run_no} holds ${r.held_lines} of ${r.lines} lines (¥${r.held_amount}), prepared by demo-auditor and waiting for a second auditor's approval (demo-checker) at ${url}/workbench/payroll`
  ];
}
