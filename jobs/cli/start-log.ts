// What `yinling up` tells the person at the terminal: a short, calm summary (what was loaded, what
// the demo's planted bad rows are, where to sign in and with which account), while every detail —
// the build's output, each migration, each file ingested, each engine step — goes to a log file.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Pool } from '../../core/db/pool.ts';
import type { DemoLogin } from '../../core/demo-accounts.ts';
import type { JobResult } from '../runner.ts';

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
  const write = (m: string) => fs.writeSync(fd, `${new Date().toISOString()} ${m}\n`);
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
