// The operators' CLI: exit codes 0/1/2, --help everywhere, one clear line instead of a stack trace;
// `run all --as-of D` then `export alerts --as-of D` on a later day gives the alerts of that run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { shanghaiIso } from '../core/time.ts';
import { COMMANDS } from '../jobs/cli/commands.ts';
import { freshDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000
  });

describe('yinling CLI', () => {
  it('answers --help for every command with exit 0', () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = run([name, '--help']);
      expect(r.status, name).toBe(0);
      expect(r.stdout, name).toContain(`Usage: yinling ${name}`);
    }
  });

  it('exits 2 on bad usage with a clear message', () => {
    expect(run(['no-such-command']).status).toBe(2);
    const r = run(['run', 'no-such-job']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/job must be one of .*certify/);
    expect(run(['export', 'persons', '--format', 'xml']).status).toBe(2);
    expect(run(['run', 'certify', '--as-of', '2026-13-01']).status).toBe(2);
  });

  it('exits 1 with one line, not a stack trace, when the database is unreachable', () => {
    const r = run(['jobs'], { DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^yinling jobs: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('yinling run all --as-of, then export alerts --as-of (issue 14.6)', () => {
  it('exports the alerts that a run as of a past date raised, whatever day it runs', async () => {
    const db = await freshDatabase();
    try {
      // Died 2025-02-10, recorded 2025-04-25, paid through 2025-05: paid after death as of 2025-06-15.
      const id = pid('1940-05-05');
      await person(db.pool, id);
      await enroll(db.pool, id);
      await pay(db.pool, id, '2024-06', '2025-05', '3000.00');
      await insert(db.pool, 'deaths', [
        { record_id: 'D-CLI', id_number: id, death_date: '2025-02-10', source: 'civil_affairs', recorded_at: '2025-04-25T10:00:00+08:00' }
      ]);
      const env = { DATABASE_URL: db.url };
      const ran = run(['run', 'all', '--as-of', '2025-06-15'], env);
      expect(ran.status, ran.stderr + ran.stdout).toBe(0);
      const ex = run(['export', 'alerts', '--format', 'json', '--as-of', '2025-06-15'], env);
      expect(ex.status, ex.stderr).toBe(0);
      const rows = JSON.parse(ex.stdout) as Record<string, string>[];
      const raised = (await db.pool.query(`SELECT alert_id::text FROM alerts ORDER BY alert_id`)).rows.map((x) => x.alert_id);
      expect(raised).toHaveLength(1);
      expect(rows.map((x) => x.alert_id)).toEqual(raised);
      expect(rows[0]).toMatchObject({
        rule: 'paid_after_death',
        amount_at_risk: '9000.00',
        periods: '2025-03;2025-04;2025-05',
        detected_as_of: '2025-06-15'
      });
      expect(rows[0].id_number).toContain('*'); // masked without --unmask
      // `yinling jobs` gives each run's start as the bureau's clock with its offset, not the session's bare local time
      const jobs = run(['jobs', '--limit', '1'], env);
      expect(jobs.status, jobs.stderr).toBe(0);
      const newest = (await db.pool.query(`SELECT started_at FROM job_runs ORDER BY started_at DESC, run_id DESC LIMIT 1`)).rows[0];
      expect(jobs.stdout).toContain(shanghaiIso(newest.started_at));
    } finally {
      await db.drop();
    }
  });
});

describe('yinling backup / restore from the command line', () => {
  it('backs up, refuses to restore over data (exit 1, one line) and restores into an empty database (exit 0)', async () => {
    const db = await freshDatabase();
    const empty = await freshDatabase({ empty: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-cli-backup-'));
    try {
      expect(run(['backup'], { DATABASE_URL: db.url }).status).toBe(2);
      const file = path.join(dir, 'b.backup');
      const b = run(['backup', '--out', file], { DATABASE_URL: db.url });
      expect(b.status, b.stderr).toBe(0);
      expect(b.stdout).toMatch(/^backup .*: schema \d{4}_\w+, \d+ tables, \d+ rows/);
      expect(run(['backup', '--out', file], { DATABASE_URL: db.url }).status).toBe(2); // never overwrites a file
      const over = run(['restore', file], { DATABASE_URL: db.url });
      expect(over.status).toBe(1);
      expect(over.stderr.trim().split('\n')).toHaveLength(1);
      expect(over.stderr).toMatch(/the database is not empty/);
      const r = run(['restore', file], { DATABASE_URL: empty.url });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^restored .*: \d+ tables/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
      await empty.drop();
    }
  }, 120_000);
});
