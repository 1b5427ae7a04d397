// Faults (issue 19 §12): a full disk. Small tmpfs filesystems are mounted and filled for real (we are root in
// CI: `mount -t tmpfs`; anyone else gets a failure saying so — never a silent skip):
//  * the inbox on a full filesystem (no blocks and no inodes left, so the `.done/` folder of a new feed cannot
//    be made): the ingest run fails with an error naming the file and ENOSPC, the file is neither loaded nor
//    moved (whole, in the inbox), what was loaded before stays, and after space is freed a re-run loads it; a
//    file to reject is not recorded as rejected while it cannot be moved to `.rejected/`;
//  * the database's own disk full (the embedded cluster's data files on a small tmpfs; its WAL on the ordinary
//    disk, as production installations often keep it, so PostgreSQL refuses the write with an ERROR instead of
//    stopping): an ingest and an engine run fail with PostgreSQL's "could not extend file … No space left on
//    device" in their run's error (the ingest's naming the file), nothing is half-written, no run is left
//    "running", and after space is freed the re-runs complete;
//  * the data dir full: `yinling up`'s log file cannot take a line — the line still reaches the terminal, with
//    a warning naming the log file and ENOSPC, and `up` goes on (a throw there, in a child's exit handler, would
//    take `up` down and leave the web server and the scheduler without their supervisor).
// Own embedded server (the shared test server must keep its disk), in a scratch dir.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.ts';
import { scratchDir, startEmbeddedPostgres, type EmbeddedServer } from '../core/db/embedded.ts';
import { createPool, endPool, type Pool } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { loadConfig } from '../core/config.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { runWithDependents } from '../jobs/registry.ts';
import type { JobResult } from '../jobs/runner.ts';
import { openStartLog } from '../jobs/cli/start-log.ts';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let dir: string; // scratch: the city's files, the WAL, mount points
let city: string; // the tiny city's feed files (ordinary disk)
let inbox: string; // a tmpfs
let pgDisk: string; // a tmpfs holding the cluster's data files
let server: EmbeddedServer | undefined;
let pool: Pool;
let asOf: string;
const mounts: string[] = [];
const noLog = () => {};
const lines: string[] = [];
const log = (m: string) => lines.push(m);

function mountTmpfs(at: string, options: string): void {
  fs.mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${options},mode=0755`, 'tmpfs', at]);
  mounts.push(at);
}

/**
 * Fill the filesystem of `at`: files of 64 KB, then smaller ones, until the disk says ENOSPC (and, with
 * `inodes`, empty files until no inode is left). Returns the folder of filler files (remove it to free).
 */
function fill(at: string, opts: { leaveBytes?: number; inodes?: boolean; folder?: string } = {}): string {
  const filler = path.join(at, opts.folder ?? 'filler');
  fs.mkdirSync(filler, { recursive: true });
  let n = 0;
  const leave = opts.leaveBytes ?? 0;
  for (const size of [1 << 20, 64 << 10, 4 << 10]) {
    for (;;) {
      const st = fs.statfsSync(at);
      if (st.bavail * st.bsize - size < leave) break;
      try {
        fs.writeFileSync(path.join(filler, `f${n++}`), Buffer.alloc(size));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        break;
      }
    }
  }
  if (opts.inodes) {
    for (;;) {
      try {
        fs.writeFileSync(path.join(filler, `i${n++}`), '');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        break;
      }
    }
  }
  return filler;
}

function copyFeedFile(feed: string, name: string, to = inbox): string {
  fs.mkdirSync(path.join(to, feed), { recursive: true });
  const dest = path.join(to, feed, name);
  fs.copyFileSync(path.join(city, feed, name), dest);
  return dest;
}

const configFor = (at = inbox) => ({ ...loadConfig({ ...process.env, DATABASE_URL: 'postgres://unused' }), inboxDir: at });
const ingest = (at = inbox): Promise<JobResult[] | Error> =>
  runWithDependents(pool, 'ingest', { config: configFor(at), inbox: at, trigger: 'manual', log, asOf }).catch((e: Error) => e);

/** Row counts and money of what a fault could leave half-written. */
async function fingerprint(p: Pool): Promise<Record<string, string>> {
  const r = await p.query(`
    SELECT (SELECT count(*) FROM persons)::text AS persons, (SELECT count(*) || ':' || COALESCE(sum(amount), 0) FROM payments) AS payments,
           (SELECT count(*) FROM evidence)::text AS evidence, (SELECT count(*) FROM quarantine)::text AS quarantine,
           (SELECT string_agg(file_name || ':' || status, ',' ORDER BY file_id) FROM ingest_files) AS files,
           (SELECT count(*) || ':' || count(*) FILTER (WHERE status = 'certified') FROM cert_status) AS cert_status,
           (SELECT count(*) || ':' || COALESCE(sum(amount_at_risk), 0) FROM alerts) AS alerts,
           (SELECT count(*) FROM ind_region_month)::text AS facts_month, (SELECT count(*) FROM ind_region_now)::text AS facts_now`);
  return r.rows[0];
}

const running = async () => (await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE status = 'running'`)).rows[0].n as number;

/** The run's error as the operator sees it: the failed job_runs row's error (or what was thrown). */
function failure(outcome: JobResult[] | Error): string {
  if (outcome instanceof Error) return outcome.message;
  const failed = outcome.find((r) => r.status === 'failed');
  expect(failed, `a failed run among ${outcome.map((r) => r.status).join(', ')}`).toBeDefined();
  return failed!.error ?? '';
}

beforeAll(async () => {
  if (!isRoot)
    throw new Error(
      'tests/faults-disk.test.ts needs root: it mounts small tmpfs filesystems (mount -t tmpfs) to fill them up. Run the suite as root (CI does).'
    );
  dir = scratchDir('yinling-faults-disk-');
  city = path.join(dir, 'city');
  const truth = await generateCity({ scale: 'tiny', seed: 5, outDir: city });
  asOf = truth.asOf;
  inbox = path.join(dir, 'inbox');
  pgDisk = path.join(dir, 'pgdisk');
  // The cluster is made on the ordinary disk, then its data files go to the tmpfs and its WAL stays behind.
  const made = path.join(dir, 'made');
  fs.mkdirSync(made, { mode: 0o755 });
  const port = await freePort();
  let s = await startEmbeddedPostgres({ dir: made, port });
  await s.stop();
  mountTmpfs(pgDisk, 'size=96m');
  const cluster = path.join(made, 'pg');
  const wal = path.join(dir, 'wal');
  execFileSync('mv', [path.join(cluster, 'pg_wal'), wal]);
  // `cp -a` keeps the owner (the postgres user when we are root) and modes (0700)
  execFileSync('cp', ['-a', cluster, path.join(pgDisk, 'pg')]);
  fs.rmSync(cluster, { recursive: true, force: true });
  fs.symlinkSync(wal, path.join(pgDisk, 'pg', 'pg_wal'));
  for (const f of fs.readdirSync(made)) if (f !== 'pg') fs.copyFileSync(path.join(made, f), path.join(pgDisk, f));
  s = await startEmbeddedPostgres({ dir: pgDisk, port });
  server = s;
  await migrate(s.url);
  pool = createPool(s.url);
  await loadCatalogues(pool);
}, 600_000);

afterAll(async () => {
  if (pool) await endPool(pool).catch(() => {});
  await server?.stop().catch(() => {});
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m]);
    } catch {
      execFileSync('umount', ['-l', m]);
    }
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a full disk', () => {
  it('the inbox full: the ingest fails naming the file and ENOSPC, nothing is half-loaded or lost, a re-run after freeing space loads it', async () => {
    // 24 inodes: the feed folders and files below, the .done folders of the first load, and some to fill
    mountTmpfs(inbox, 'size=4m,nr_inodes=24');
    for (const name of fs.readdirSync(path.join(city, 'regions'))) copyFeedFile('regions', name);
    copyFeedFile('persons', 'persons-330602.csv');
    const first = await ingest();
    expect(first instanceof Error ? first.message : first.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    const before = await fingerprint(pool);
    expect(Number(before.persons)).toBeGreaterThan(0);

    // a new feed's file arrives, then the disk fills up: its .done/payments folder cannot be made
    const file = copyFeedFile('payments', 'payments-2024.csv');
    const bytes = fs.readFileSync(file);
    const filler = fill(inbox, { inodes: true });
    expect(() => fs.mkdirSync(path.join(inbox, '.probe'))).toThrow(/ENOSPC/);
    lines.length = 0;
    const full = await ingest();
    const message = failure(full);
    // a clear error: which file, and that the disk is full
    expect(message).toContain('payments/payments-2024.csv');
    expect(message).toMatch(/ENOSPC|no space left/i);
    // nothing half-done: the file is not loaded, not moved, whole; what was loaded before stays
    expect(await fingerprint(pool)).toEqual(before);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.existsSync(path.join(inbox, '.done', 'payments'))).toBe(false);
    expect(await running()).toBe(0);
    const recorded = await pool.query(`SELECT status, error FROM job_runs WHERE job = 'ingest' ORDER BY run_id DESC LIMIT 1`);
    expect(recorded.rows[0].status).toBe('failed');
    expect(recorded.rows[0].error).toContain('payments/payments-2024.csv');

    // space freed: the next run loads the file whole and moves it
    fs.rmSync(filler, { recursive: true, force: true });
    const again = await ingest();
    expect(again instanceof Error ? again.message : again.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(path.join(inbox, '.done', 'payments', 'payments-2024.csv')).equals(bytes)).toBe(true);
    const loaded = await pool.query(
      `SELECT f.rows_loaded::int, (SELECT count(*)::int FROM payments p WHERE p.file_id = f.file_id) AS n FROM ingest_files f
        WHERE f.file_name = 'payments-2024.csv' AND f.status = 'loaded'`
    );
    expect(loaded.rows).toHaveLength(1);
    expect(loaded.rows[0].n).toBe(loaded.rows[0].rows_loaded);
    expect(loaded.rows[0].n).toBeGreaterThan(0);
  }, 600_000);

  it('the inbox full: a file to reject is neither recorded nor moved until there is room for it in .rejected/', async () => {
    // a folder that is not a feed: its file is rejected (unknown_feed) and goes to .rejected/, not made yet
    const file = path.join(inbox, 'elsewhere', 'odd.csv');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'a,b\n1,2\n');
    const before = await fingerprint(pool);
    const filler = fill(inbox, { inodes: true });
    const message = failure(await ingest());
    expect(message).toContain('elsewhere/odd.csv');
    expect(message).toMatch(/ENOSPC|no space left/i);
    // nothing recorded for a file still in the inbox (the rejection would otherwise say it was dealt with)
    expect(await fingerprint(pool)).toEqual(before);
    expect(fs.readFileSync(file, 'utf8')).toBe('a,b\n1,2\n');
    expect(await running()).toBe(0);

    fs.rmSync(filler, { recursive: true, force: true });
    const again = await ingest();
    expect(again instanceof Error ? again.message : again.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(path.join(inbox, '.rejected', 'elsewhere', 'odd.csv'), 'utf8')).toBe('a,b\n1,2\n');
    const recorded = await pool.query(`SELECT status FROM ingest_files WHERE file_name = 'odd.csv'`);
    expect(recorded.rows).toEqual([{ status: 'rejected' }]);
  }, 300_000);

  it("the database's disk full: an ingest and an engine run fail with PostgreSQL's error, nothing half-written, and complete once space is freed", async () => {
    // the rest of the city (but one year of payments), loaded with room to spare, from an inbox on the ordinary disk
    const inbox2 = path.join(dir, 'inbox2');
    for (const feed of fs.readdirSync(city)) {
      if (feed.startsWith('.')) continue;
      for (const name of fs.readdirSync(path.join(city, feed)))
        if (name.endsWith('.csv') && name !== 'payments-2025.csv') copyFeedFile(feed, name, inbox2);
    }
    const ok = await ingest(inbox2);
    expect(ok instanceof Error ? ok.message : ok.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    const before = await fingerprint(pool);

    // a big payments file: the year 2025 delivered under new ids, four times over (about 3 MB of rows)
    const src = fs
      .readFileSync(path.join(city, 'payments', 'payments-2025.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    const header = src[0];
    const body: string[] = [];
    for (let k = 0; k < 4; k++) for (const l of src.slice(1)) body.push(`BIG${k}-${l}`);
    const big = path.join(inbox2, 'payments', 'payments-big.csv');
    fs.writeFileSync(big, [header, ...body].join('\n') + '\n');

    // the database's disk is filled up to 256 KB: enough to record a run, not to take the file
    const filler = fill(pgDisk, { leaveBytes: 256 << 10 });
    lines.length = 0;
    const full = await ingest(inbox2);
    const message = failure(full);
    expect(message).toContain('payments/payments-big.csv');
    expect(message).toMatch(/could not extend file|could not write|No space left on device/i);
    expect(await fingerprint(pool)).toEqual(before);
    expect(fs.existsSync(big)).toBe(true);
    expect(await running()).toBe(0);
    const loading = await pool.query(`SELECT count(*)::int AS n FROM ingest_files WHERE status = 'loading'`);
    expect(loading.rows[0].n).toBe(0);

    // an engine run on the disk filled to the last byte (a full run: another as-of day rebuilds everything)
    fill(pgDisk, { folder: 'filler-2' });
    const nextDay = new Date(Date.parse(`${asOf}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const engines = await runWithDependents(pool, 'all', { config: configFor(inbox2), trigger: 'manual', log: noLog, asOf: nextDay }).catch(
      (e: Error) => e
    );
    const engineError = failure(engines);
    expect(engineError).toMatch(/could not extend file|could not write|No space left on device/i);
    expect(await fingerprint(pool)).toEqual(before);
    expect(await running()).toBe(0);

    // space freed: both complete
    fs.rmSync(filler, { recursive: true, force: true });
    fs.rmSync(path.join(pgDisk, 'filler-2'), { recursive: true, force: true });
    const again = await ingest(inbox2);
    expect(again instanceof Error ? again.message : again.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    // loaded whole: every line read, every row kept in the table (the year's own bad rows in the quarantine)
    const added = await pool.query(
      `SELECT f.rows_read::int, f.rows_loaded::int, f.rows_quarantined::int, (SELECT count(*)::int FROM payments p WHERE p.file_id = f.file_id) AS n
         FROM ingest_files f WHERE f.file_name = 'payments-big.csv' AND f.status = 'loaded'`
    );
    expect(added.rows).toHaveLength(1);
    expect(added.rows[0].rows_read).toBe(body.length);
    expect(added.rows[0].n).toBe(added.rows[0].rows_loaded);
    expect(added.rows[0].rows_loaded + added.rows[0].rows_quarantined).toBe(body.length);
    expect(fs.existsSync(big)).toBe(false);
    const rerun = await runWithDependents(pool, 'all', { config: configFor(inbox2), trigger: 'manual', log: noLog, asOf: nextDay });
    expect(rerun.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    expect(await running()).toBe(0);
  }, 600_000);

  it("the data dir full: up's log loses the line to the file only, says so, and writes again once there is room", async () => {
    const dataDir = path.join(dir, 'data');
    mountTmpfs(dataDir, 'size=1m');
    const out = openStartLog({ ...loadConfig({ ...process.env, YINLING_DATA_DIR: dataDir }) });
    const printed: string[] = [];
    const origLog = console.log;
    const origError = console.error;
    console.log = (...a: unknown[]) => void printed.push(a.join(' '));
    console.error = (...a: unknown[]) => void printed.push(a.join(' '));
    try {
      out.say('before the disk filled');
      const filler = fill(dataDir);
      const long = 'web exited (SIGKILL); restarting in 2 s ' + 'x'.repeat(8192); // more than the log's last page holds
      expect(() => out.say(long)).not.toThrow();
      expect(() => out.detail(long)).not.toThrow();
      expect(printed.some((l) => l.includes(long))).toBe(true);
      const warnings = printed.filter((l) => l.includes(out.file) && /ENOSPC|no space left/i.test(l));
      expect(warnings).toHaveLength(1); // once, not per line
      fs.rmSync(filler, { recursive: true, force: true });
      out.say('after space was freed');
      out.close();
    } finally {
      console.log = origLog;
      console.error = origError;
    }
    const text = fs.readFileSync(out.file, 'utf8');
    expect(text).toContain('before the disk filled');
    expect(text).toContain('after space was freed');
    expect(text).toMatch(/lines? could not be written/);
  }, 60_000);
});
