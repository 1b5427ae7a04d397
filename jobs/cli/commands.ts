// The CLI's commands. Each parses its own options (UsageError → exit 2) and returns an exit code.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT, type Config } from '../../core/config.ts';
import { openDatabase } from '../../core/db/connect.ts';
import { schemaVersion } from '../../core/db/migrate.ts';
import { DATASETS, exportDataset } from '../exports.ts';
import { JOBS, runWithDependents } from '../registry.ts';
import type { JobResult } from '../runner.ts';
import { startScheduler } from '../scheduler/index.ts';
import { createWebServer } from '../web/http-server.ts';
import { isoDateOption, oneOf, parse, UsageError } from './args.ts';
import * as accounts from '../../core/accounts.ts';
import { audit, type Actor } from '../../core/audit.ts';
import { HttpError } from '../../core/errors.ts';
import { ensureDemoAccounts } from '../../core/demo-accounts.ts';
import {
  demoAccountLines,
  demoPayrollCheck,
  demoResidentLines,
  fileDemoSpouseReport,
  ingestSummary,
  openStartLog,
  type StartLog
} from './start-log.ts';
import * as field from '../../core/workflow/field-visits.ts';
import { ensureCheckupSlots } from '../../core/workflow/checkup-bookings.ts';
import { ensureActivitySessions } from '../../core/workflow/activities.ts';
import { backfillNowSnapshots, pendingMonthEnds } from '../now-backfill.ts';
import { importGeoJson } from '../geo.ts';
import { backupDatabase, restoreDatabase } from '../backup.ts';
import { loadCatalogues } from '../../core/reference/load.ts';
import { todayShanghai } from '../engines/context.ts';
import { shanghaiIsoSql } from '../../core/time.ts';
import { payrollCommand, periodOption } from './payroll.ts';
import { runPayrollCheck } from '../engines/payroll-check.ts';
import { WORKBENCH_COMMANDS } from './workbench.ts';

const operator = (): Actor => ({ type: 'operator', name: os.userInfo().username });

/** Read a password from the environment variable named by --password-env, or a TTY prompt (not echoed). */
async function readPassword(envName: string | undefined): Promise<string> {
  if (envName) {
    const v = process.env[envName];
    if (!v) throw new UsageError(`the environment variable ${envName} is empty`);
    return v;
  }
  if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password: pass --password-env NAME');
  process.stdout.write('Password (10+ characters): ');
  process.stdin.setRawMode(true);
  return new Promise((resolve) => {
    let pw = '';
    const onData = (b: Buffer) => {
      const ch = b.toString('utf8');
      if (ch === '\r' || ch === '\n') {
        process.stdin.setRawMode(false);
        process.stdin.pause();
        process.stdin.off('data', onData);
        process.stdout.write('\n');
        resolve(pw);
      } else if (ch === '\u0003') {
        process.exit(130);
      } else if (ch === '\u007f') {
        pw = pw.slice(0, -1);
      } else {
        pw += ch;
      }
    };
    process.stdin.on('data', onData).resume();
  });
}

async function withAccounts(config: Config, fn: (pool: import('../../core/db/pool.ts').Pool) => Promise<void>): Promise<number> {
  // the accounts, kiosk and field services run as the application role, as in the web server
  const db = await openDatabase({ config, migrate: true, as: 'app' });
  try {
    await fn(db.pool);
    return 0;
  } catch (e) {
    if (e instanceof HttpError && e.status < 500) throw new UsageError(e.message); // a bad name, role or region the operator typed
    throw e;
  } finally {
    await db.close();
  }
}

export interface Command {
  summary: string;
  usage: string;
  help?: string;
  run(argv: string[], config: Config): Promise<number>;
}

const log = (m: string) => console.log(`[${new Date().toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })}] ${m}`);

function resultLines(results: JobResult[], names: string[]): string[] {
  return results.map((r, i) => {
    const c = r.counts;
    const extra = Object.keys(c.extra).length ? ' ' + JSON.stringify(c.extra) : '';
    return `${names[i] ?? 'job'} #${r.runId}: ${r.status} in ${(r.durationMs / 1000).toFixed(1)} s — read ${c.read}, loaded ${c.loaded}, replaced ${c.replaced}, quarantined ${c.quarantined}${extra}${r.error ? `\n  error: ${r.error}` : ''}`;
  });
}

function printResults(results: JobResult[], names: string[]): void {
  for (const line of resultLines(results, names)) console.log(line);
}

async function runAndReport(config: Config, job: string, opts: { asOf?: string; inbox?: string }): Promise<number> {
  const db = await openDatabase({ config, log, migrate: true });
  try {
    const results = await runWithDependents(db.pool, job, { config, asOf: opts.asOf, inbox: opts.inbox, trigger: 'manual', log });
    printResults(
      results,
      results.map((_, i) => (i === 0 ? job : 'then'))
    );
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    await db.close();
  }
}

/**
 * Source files newer than the web build mean the build is stale. `up` builds only ./build; a build elsewhere
 * (YINLING_WEB_BUILD) is the operator's or a test's, used as it is.
 */
function webBuildIsCurrent(config: Config): boolean {
  if (config.webBuildDir !== path.join(ROOT, 'build')) return true;
  const handler = path.join(config.webBuildDir, 'handler.js');
  if (!fs.existsSync(handler)) return false;
  const built = fs.statSync(handler).mtimeMs;
  const newest = (dir: string): number => {
    let m = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      m = Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return m;
  };
  const sources = ['dashboard', 'semantic-layer', 'jobs', 'core'].map((d) => path.join(ROOT, d)).filter((d) => fs.existsSync(d));
  return Math.max(...sources.map(newest), fs.statSync(path.join(ROOT, 'svelte.config.js')).mtimeMs) <= built;
}

function buildWeb(out: StartLog): void {
  out.say('Building the web app (vite build, about a minute)…');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  });
  for (const line of `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')) if (line.trim()) out.detail(`[vite] ${line}`);
  if (r.status !== 0) {
    console.error(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n'));
    throw new Error(`the web app did not build (the build's messages are above and in ${out.file})`);
  }
}

/** The semantic layer's token secret: CUBEJS_API_SECRET, else one generated once and kept in the data dir. */
function ensureApiSecret(config: Config): string {
  if (process.env.CUBEJS_API_SECRET) return process.env.CUBEJS_API_SECRET;
  const file = path.join(config.dataDir, 'api-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function serveWeb(config: Config, databaseUrl: string): Promise<http.Server> {
  process.env.DATABASE_URL = databaseUrl;
  process.env.CUBEJS_API_SECRET = ensureApiSecret(config);
  if (!fs.existsSync(path.join(config.webBuildDir, 'handler.js'))) {
    throw new Error(`the web app is not built in ${config.webBuildDir}: run \`npm run build\` (or \`yinling up\`, which builds it)`);
  }
  const server = await createWebServer(config.webBuildDir);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${config.port} is already in use: stop the other server or set PORT`) : e)
    );
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGHUP', () => resolve('SIGHUP')); // the terminal closed: the database runs in its own process group
    // a web server or scheduler that `up` forked: `up` gone (even killed with SIGKILL, which it cannot catch)
    // closes the IPC channel — stop as on a hang-up instead of living on, orphaned, holding the port
    if (process.send) process.once('disconnect', () => resolve('SIGHUP'));
  });
}

export const COMMANDS: Record<string, Command> = {
  up: {
    summary: 'start everything: database, migrations, demo data when empty, scheduler and web (what `npm start` runs)',
    usage: '[--no-demo]',
    help: 'Starts the embedded PostgreSQL unless DATABASE_URL is set, applies migrations, generates and ingests the\ndemo city when the database holds no persons, then runs the scheduler and the web server on PORT (default 3000).\nCtrl-C stops everything cleanly; the next start reuses the data.',
    async run(argv, config) {
      const { values } = parse(argv, { 'no-demo': { type: 'boolean' } });
      const out = openStartLog(config);
      out.say(`Starting Yinling (the details go to ${out.file})`);
      if (!webBuildIsCurrent(config)) buildWeb(out);
      const db = await openDatabase({ config, log: out.detail, migrate: true });
      const children: ChildProcess[] = [];
      let stopping = false;
      const backfillStop = new AbortController();
      let backfill: Promise<void> = Promise.resolve();
      const passwordFile = path.join(config.dataDir, 'demo-accounts.json');
      try {
        const ts = await db.pool.query(`SELECT yinling_has_timescale() AS ts`);
        out.say(`Database ready: schema ${await schemaVersion(db.pool)}, ${ts.rows[0].ts ? 'TimescaleDB' : 'plain PostgreSQL'}.`);
        const persons = await db.pool.query(`SELECT EXISTS (SELECT 1 FROM persons) AS any`);
        if (!persons.rows[0].any && !values['no-demo'] && !config.noDemo) {
          const hasFiles = fs.existsSync(config.inboxDir) && fs.readdirSync(config.inboxDir).some((f) => !f.startsWith('.'));
          if (!hasFiles) {
            out.say(
              `Empty database: generating the demo city (${config.demoScale === 'tiny' ? 'a tiny one' : 'about 20,000 recipients'}) into ${config.inboxDir}`
            );
            const { generateCity } = await import('../../seeds/generator/index.ts');
            await generateCity({ scale: config.demoScale, seed: 1, outDir: config.inboxDir, asOf: todayShanghai() });
          }
          out.say('Loading the inbox, then running the engines (a minute or two)…');
          const results = await runWithDependents(db.pool, 'ingest', { config, trigger: 'startup', log: out.detail });
          for (const line of resultLines(results, ['ingest', 'then'])) out.detail(line);
          for (const line of await ingestSummary(db.pool, results, !hasFiles)) out.say(line);
          // Demo accounts (two may unmask) only over the demo city generated just now, never over an
          // operator's files that were already in the inbox.
          if (!hasFiles) {
            await ensureDemoAccounts(db.pool, { passwordFile });
            // The demo shows a pre-payroll check waiting for approval: prepared by the demo auditor, not approved.
            const lines = await demoPayrollCheck(
              db.pool,
              async (period) =>
                (await runPayrollCheck(db.pool, { period, preparedBy: 'demo-auditor', trigger: 'startup', log: out.detail })).run,
              `http://localhost:${config.port}`
            );
            for (const line of lines) out.say(line);
          } else out.say('The inbox held files already: loaded them as real data, and created no demo accounts.');
        }
        const geo = path.join(config.inboxDir, '.geo', 'city.geojson');
        const shapes = await db.pool.query(`SELECT EXISTS (SELECT 1 FROM region_shapes) AS any`);
        if (!shapes.rows[0].any && fs.existsSync(geo))
          out.detail(`Imported ${await importGeoJson(db.pool, geo)} region shapes for the map`);
        const demo = await db.pool.query(`SELECT count(*)::int AS n FROM staff_users WHERE username LIKE 'demo-%'`);
        if (demo.rows[0].n > 0) {
          const logins = await ensureDemoAccounts(db.pool, { passwordFile });
          for (const line of demoAccountLines(logins, `http://localhost:${config.port}`, passwordFile)) out.say(line);
          // the demo city's residents: one per situation the portal shows, and checkup days to book
          out.detail(`Opened ${await ensureCheckupSlots(db.pool)} checkup slots for the portal`);
          out.detail(
            `Opened ${await ensureActivitySessions(db.pool, { from: todayShanghai() })} activity and class sessions for the portal`
          );
          // the "spouse died" resident: a death report filed through the service, naming the resident the surviving spouse
          await fileDemoSpouseReport(db.pool);
          const residentsFile = path.join(config.dataDir, 'demo-residents.json');
          for (const line of await demoResidentLines(db.pool, `http://localhost:${config.port}`, residentsFile)) out.say(line);
        }
        // the scheduler's jobs run as the owner, the web server as the application role (core/db/connect.ts)
        const env = {
          ...process.env,
          DATABASE_URL: db.url,
          ...(db.appRole ? { YINLING_APP_DATABASE_URL: db.appUrl } : {}),
          YINLING_MANAGED_BY_UP: '1'
        };
        const bin = path.join(ROOT, 'jobs', 'cli', 'bin.js');
        const start = (cmd: string): void => {
          const child = fork(bin, [cmd], { env, stdio: 'inherit' });
          children.push(child);
          child.on('exit', (code, signal) => {
            children.splice(children.indexOf(child), 1);
            if (stopping) return;
            out.say(`${cmd} exited (${signal ?? code}); restarting in 2 s`);
            setTimeout(() => {
              if (!stopping) start(cmd);
            }, 2000);
          });
        };
        start('serve');
        start('scheduler');
        out.say(`Yinling is up: http://localhost:${config.port}/ (health: http://localhost:${config.port}/healthz). Ctrl-C stops.`);
        // The demo city's "now" indicators get a trend from day one: their snapshots at past month-ends, each
        // an engine replay rolled back (jobs/now-backfill.ts) — about ten seconds a month at demo scale, so
        // after the screen is up, in the background; a start stopped half-way goes on from where it was.
        const signalled = waitForSignal();
        const pending = demo.rows[0].n > 0 ? await pendingMonthEnds(db.pool, todayShanghai()) : [];
        if (pending.length) {
          out.say(`Filling in the "now" indicators at ${pending.length} past month-ends in the background (progress in the log)…`);
          backfill = backfillNowSnapshots(db.pool, { today: todayShanghai(), log: out.detail, signal: backfillStop.signal }).then(
            (r) =>
              out.say(
                r.monthEnds.length < pending.length
                  ? `Stopped filling in the "now" indicators after ${r.monthEnds.length} month-ends; the next start goes on.`
                  : `Filled in the "now" indicators at ${r.monthEnds.length} past month-ends (${Math.round(r.ms / 1000)} s).`
              ),
            (e: Error) => out.say(`Filling in the "now" indicators stopped: ${e.message} (the next start goes on)`)
          );
        }
        const signal = await signalled;
        out.say(`${signal}: stopping…`);
      } finally {
        stopping = true;
        // the month being replayed finishes (a month is written whole or not at all) before the database goes
        backfillStop.abort();
        await Promise.all([
          backfill,
          ...children.map(
            (c) =>
              new Promise<void>((resolve) => {
                if (c.exitCode !== null) return resolve();
                const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
                c.once('exit', () => {
                  clearTimeout(t);
                  resolve();
                });
                c.kill('SIGTERM');
              })
          )
        ]);
        await db.close();
        out.say('Stopped.');
        out.close();
      }
      return 0;
    }
  },

  serve: {
    summary: 'run the web server (cockpit, workbench, portal, semantic-layer API) on PORT',
    usage: '',
    async run(argv, config) {
      parse(argv, {});
      const db = await openDatabase({ config, log, migrate: !process.env.YINLING_MANAGED_BY_UP });
      if (!db.appRole) log(`web: ${db.appRoleMissing}`);
      const server = await serveWeb(config, db.appUrl);
      log(`web: listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/`);
      await waitForSignal();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.close();
      return 0;
    }
  },

  scheduler: {
    summary: 'run the scheduled jobs (ingest every few minutes, engines nightly)',
    usage: '',
    help: 'Schedules come from YINLING_SCHEDULE_INGEST and YINLING_SCHEDULE_ENGINES (cron syntax, Asia/Shanghai).\nA job never overlaps itself, even across two schedulers (PostgreSQL advisory locks).',
    async run(argv, config) {
      parse(argv, {});
      const db = await openDatabase({ config, log, migrate: !process.env.YINLING_MANAGED_BY_UP });
      const scheduler = startScheduler(db.pool, config, log);
      await waitForSignal();
      await scheduler.stop();
      await db.close();
      return 0;
    }
  },

  backup: {
    summary: 'write the whole database, consistent, to one file (gzipped tar of COPY files and a manifest)',
    usage: '--out FILE',
    help: 'Safe while Yinling runs: the tables are read in one snapshot. Restore with `yinling restore FILE` into an empty database.',
    async run(argv, config) {
      const { values } = parse(argv, { out: { type: 'string' } });
      const out = values.out as string | undefined;
      if (!out) throw new UsageError('say where to write the backup: --out FILE');
      if (fs.existsSync(out)) throw new UsageError(`${out} exists already: choose a new file name`);
      const db = await openDatabase({ config, migrate: false, log: (m) => console.error(m) });
      try {
        const m = await backupDatabase(db.pool, out);
        const rows = m.tables.reduce((n, t) => n + t.rows, 0);
        console.log(
          `backup ${out}: schema ${m.migrations.at(-1)}, ${m.tables.length} tables, ${rows} rows, ${fs.statSync(out).size} bytes`
        );
        await audit(db.pool, operator(), 'backup', out, { schema: m.migrations.at(-1), rows });
        return 0;
      } finally {
        await db.close();
      }
    }
  },

  restore: {
    summary: 'load a backup file into an empty database, upgrading it to this version’s schema',
    usage: 'FILE',
    help: 'The database (DATABASE_URL, or the embedded one of YINLING_DATA_DIR) must be empty: restore never overwrites data.',
    async run(argv, config) {
      const { positionals } = parse(argv, {}, true);
      if (positionals.length !== 1) throw new UsageError('name one backup file');
      const db = await openDatabase({ config, migrate: false, log: (m) => console.error(m) });
      try {
        const { manifest, upgraded } = await restoreDatabase(db.url, db.pool, positionals[0], () => {});
        await loadCatalogues(db.pool);
        const refreshed = await runWithDependents(db.pool, 'refresh-rollups', { config, trigger: 'manual', log: () => {} });
        if (refreshed.some((r) => r.status === 'failed')) throw new Error(`refreshing the rollups failed: ${refreshed[0].error}`);
        const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
        console.log(
          `restored ${positionals[0]} (taken ${manifest.created_at}): ${manifest.tables.length} tables, ${rows} rows; schema ${manifest.migrations.at(-1)}` +
            (upgraded.length ? `, then upgraded through ${upgraded.join(', ')}` : '')
        );
        await audit(db.pool, operator(), 'restore', positionals[0], { rows, upgraded });
        return 0;
      } catch (e) {
        if (e instanceof HttpError && e.status < 500) {
          console.error(`yinling restore: ${e.message}`);
          return 1;
        }
        throw e;
      } finally {
        await db.close();
      }
    }
  },

  migrate: {
    summary: 'apply database migrations and load the reference catalogues',
    usage: '',
    async run(argv, config) {
      parse(argv, {});
      const db = await openDatabase({ config, log, migrate: true });
      try {
        const ts = await db.pool.query(`SELECT yinling_has_timescale() AS ts`);
        console.log(`schema ${await schemaVersion(db.pool)} (${ts.rows[0].ts ? 'TimescaleDB' : 'plain PostgreSQL'})`);
      } finally {
        await db.close();
      }
      return 0;
    }
  },

  seed: {
    summary: 'generate the synthetic city as feed files (demo or city scale)',
    usage: '[--scale demo|town|city|city3|tiny] [--seed N] [--out DIR] [--as-of YYYY-MM-DD]',
    async run(argv) {
      const { seedCommand } = await import('../../seeds/generator/cli.ts');
      return seedCommand(argv);
    }
  },

  'import-geo': {
    summary: 'import district/town/community polygons (GeoJSON FeatureCollection, properties.code) for the map',
    usage: '<file.geojson>',
    async run(argv, config) {
      const { positionals } = parse(argv, {}, true);
      if (positionals.length !== 1) throw new UsageError('name one GeoJSON file');
      if (!fs.existsSync(positionals[0])) throw new UsageError(`no file ${positionals[0]}`);
      const db = await openDatabase({ config, migrate: true });
      try {
        console.log(`imported ${await importGeoJson(db.pool, positionals[0])} shapes`);
      } finally {
        await db.close();
      }
      return 0;
    }
  },

  ingest: {
    summary: 'load every ready feed file from the inbox now',
    usage: '[--inbox DIR]',
    async run(argv, config) {
      const { values } = parse(argv, { inbox: { type: 'string' } });
      const inbox = values.inbox ? path.resolve(String(values.inbox)) : config.inboxDir;
      if (!fs.existsSync(inbox)) throw new UsageError(`the inbox ${inbox} does not exist`);
      return runAndReport(config, 'ingest', { inbox });
    }
  },

  run: {
    summary: 'run a job now (and the jobs that depend on it)',
    usage: '<job> [--as-of YYYY-MM-DD]',
    get help() {
      return (
        'Jobs:\n' +
        Object.entries(JOBS)
          .map(([n, j]) => `  ${n.padEnd(16)} ${j.description}`)
          .join('\n')
      );
    },
    async run(argv, config) {
      const { values, positionals } = parse(argv, { 'as-of': { type: 'string' } }, true);
      if (positionals.length !== 1) throw new UsageError(`name one job: ${Object.keys(JOBS).join(', ')}`);
      const job = oneOf(positionals[0], Object.keys(JOBS), 'job');
      return runAndReport(config, job, { asOf: isoDateOption(values['as-of'] as string | undefined, '--as-of') });
    }
  },

  export: {
    summary: 'write a dataset to stdout as CSV or JSON (personal data masked unless --unmask, which is audit-logged)',
    usage: '<dataset> [--format csv|json] [--unmask] [--as-of YYYY-MM-DD] [--period YYYY-MM]',
    get help() {
      return (
        'Datasets:\n' +
        Object.entries(DATASETS)
          .map(([n, d]) => `  ${n.padEnd(16)} ${d.description}\n  ${''.padEnd(16)} columns: ${d.columns.join(', ')}`)
          .join('\n')
      );
    },
    async run(argv, config) {
      const { values, positionals } = parse(
        argv,
        { format: { type: 'string' }, unmask: { type: 'boolean' }, 'as-of': { type: 'string' }, period: { type: 'string' } },
        true
      );
      if (positionals.length !== 1) throw new UsageError(`name one dataset: ${Object.keys(DATASETS).join(', ')}`);
      const dataset = oneOf(positionals[0], Object.keys(DATASETS), 'dataset');
      const format = oneOf(values.format as string | undefined, ['csv', 'json'] as const, '--format', 'csv');
      const asOf = isoDateOption(values['as-of'] as string | undefined, '--as-of');
      if (DATASETS[dataset].takesPeriod && values.period === undefined) throw new UsageError(`${dataset} needs --period YYYY-MM`);
      const period = values.period === undefined ? undefined : periodOption(values.period as string);
      const db = await openDatabase({ config, migrate: true, as: 'app', log: (m) => console.error(m) });
      try {
        // every export is logged (an unmasked one under its own action, as before)
        await audit(db.pool, { type: 'operator', name: os.userInfo().username }, values.unmask ? 'export.unmasked' : 'export', dataset, {
          format,
          asOf: asOf ?? null,
          period: period ?? null
        });
        const rows = await exportDataset(db.pool, dataset, { format, out: process.stdout, unmask: !!values.unmask, asOf, period });
        console.error(`${rows} rows`);
      } finally {
        await db.close();
      }
      return 0;
    }
  },

  user: {
    summary: 'manage staff accounts: add, list, disable, enable',
    usage:
      'add <username> --role leader|auditor|staff|admin --region CODE [--name NAME] [--password-env VAR] | list | disable <username> | enable <username>',
    help: 'The password is asked for on the terminal, or read from the environment variable named by --password-env.',
    async run(argv, config) {
      const { values, positionals } = parse(
        argv,
        { role: { type: 'string' }, region: { type: 'string' }, name: { type: 'string' }, 'password-env': { type: 'string' } },
        true
      );
      const [action, username] = positionals;
      const sub = oneOf(action, ['add', 'list', 'disable', 'enable'] as const, 'action');
      if (sub !== 'list' && !username) throw new UsageError(`${sub} needs a user name`);
      return withAccounts(config, async (pool) => {
        if (sub === 'list') {
          const users = await accounts.listUsers(pool);
          if (!users.length) console.log('no staff accounts');
          else
            console.table(
              users.map((u) => ({
                username: u.username,
                name: u.display_name,
                role: u.role,
                region: u.region_code,
                disabled: u.disabled,
                last_login: u.last_login_at ?? ''
              }))
            );
        } else if (sub === 'add') {
          const role = oneOf(values.role as string | undefined, accounts.ROLES, '--role');
          if (!values.region) throw new UsageError('--region CODE is required (the area this account may see)');
          const password = await readPassword(values['password-env'] as string | undefined);
          const u = await accounts.createUser(pool, operator(), {
            username,
            role,
            regionCode: String(values.region),
            password,
            displayName: values.name as string | undefined
          });
          console.log(`created ${u.username} (${u.role}, region ${u.region_code})`);
        } else {
          await accounts.setDisabled(pool, operator(), username, sub === 'disable');
          console.log(`${username} ${sub}d`);
        }
      });
    }
  },

  field: {
    summary: "community staff's field tasks: list a staff member's open tasks, record a visit (as /field does)",
    usage:
      'list --as USER | record <task-id> --as USER --outcome seen|not_found|deceased [--date YYYY-MM-DD] [--place TEXT] [--reason moved|unknown|hospital|nursing_home] [--death-date YYYY-MM-DD] [--note TEXT]',
    help: 'Acts for the staff account named by --as (a community or town staff member), through the same service as\nthe tablet pages (core/workflow/field-visits.ts): the same area checks, the same audit log. --date defaults to today.',
    async run(argv, config) {
      const { values, positionals } = parse(
        argv,
        {
          as: { type: 'string' },
          outcome: { type: 'string' },
          date: { type: 'string' },
          place: { type: 'string' },
          reason: { type: 'string' },
          'death-date': { type: 'string' },
          note: { type: 'string' }
        },
        true
      );
      const sub = oneOf(positionals[0], ['list', 'record'] as const, 'action');
      if (!values.as) throw new UsageError('--as USER is required (the staff account to act for)');
      const via = `cli:${os.userInfo().username}`;
      return withAccounts(config, async (pool) => {
        const user = await field.staffByName(pool, String(values.as));
        if (sub === 'list') {
          const { area, tasks } = await field.listFieldTasks(pool, user);
          console.log(`${area.name} (${area.code}): ${tasks.length} open field tasks`);
          for (const t of tasks)
            console.log(
              `#${t.task_id}\t${t.due_on ?? '-'}${t.escalated ? ' ESCALATED' : t.overdue ? ' OVERDUE' : ''}\t${t.kind}\t${t.id_masked}\t${t.community_name}`
            );
          return;
        }
        const taskId = Number(positionals[1]);
        if (!Number.isSafeInteger(taskId)) throw new UsageError('record needs the task id (see `yinling field list --as USER`)');
        const outcome = oneOf(values.outcome as string | undefined, ['seen', 'not_found', 'deceased'] as const, '--outcome');
        const visited_on = (values.date as string | undefined) ?? todayShanghai();
        const note = (values.note as string | undefined) ?? '';
        const input: field.VisitInput =
          outcome === 'seen'
            ? { outcome, visited_on, place: String(values.place ?? ''), note }
            : outcome === 'not_found'
              ? { outcome, visited_on, reason: String(values.reason ?? ''), note }
              : { outcome, visited_on, death_date: String(values['death-date'] ?? ''), note };
        const r = await field.recordVisit(pool, user, taskId, input, { via });
        console.log(
          `task #${r.task_id}: ${r.outcome} recorded (visit ${r.visit_id})` +
            (r.certification_id ? `; certification ${r.certification_id} (field_visit) for the next engine run` : '') +
            (r.case_id ? `; after-death case #${r.case_id}${r.case_created ? ' opened' : ''}` : '') +
            (r.also_closed.length ? `; also closed #${r.also_closed.join(', #')}` : '')
        );
      });
    }
  },

  kiosk: {
    summary: 'manage read-only wall-screen tokens: create, list, revoke',
    usage: 'create --label TEXT --region CODE [--no-privacy] | list | revoke <id>',
    help: 'A kiosk token opens /screen read-only for one area: http://HOST:PORT/screen?kiosk=1&token=TOKEN.\nPrivacy mode (no person-level drill-down, names masked) is on unless --no-privacy.',
    async run(argv, config) {
      const { values, positionals } = parse(
        argv,
        { label: { type: 'string' }, region: { type: 'string' }, 'no-privacy': { type: 'boolean' } },
        true
      );
      const sub = oneOf(positionals[0], ['create', 'list', 'revoke'] as const, 'action');
      return withAccounts(config, async (pool) => {
        if (sub === 'create') {
          if (!values.label || !values.region) throw new UsageError('create needs --label and --region');
          const k = await accounts.createKioskToken(pool, operator(), {
            label: String(values.label),
            regionCode: String(values.region),
            privacyMode: !values['no-privacy']
          });
          console.log(
            `kiosk token #${k.token_id} for ${k.region_code} (${k.privacy_mode ? 'privacy mode' : 'privacy mode OFF'}):\n${k.token}\nShown once; keep it safe.`
          );
        } else if (sub === 'list') {
          const ks = await accounts.listKioskTokens(pool);
          if (!ks.length) console.log('no kiosk tokens');
          else console.table(ks);
        } else {
          const id = Number(positionals[1]);
          if (!Number.isInteger(id)) throw new UsageError('revoke needs the token id (see `yinling kiosk list`)');
          await accounts.revokeKioskToken(pool, operator(), id);
          console.log(`kiosk token #${id} revoked`);
        }
      });
    }
  },

  sms: {
    summary: 'the text messages sent to residents (the local outbox when no SMS gateway is configured)',
    usage: 'outbox [--limit N]',
    help: 'Without YINLING_SMS_GATEWAY_URL, messages (sign-in codes included) are not sent but kept in the outbox;\nthis prints the newest. With a gateway the outbox shows what was sent, its codes blanked.',
    async run(argv, config) {
      const { values, positionals } = parse(argv, { limit: { type: 'string' } }, true);
      if (positionals[0] !== 'outbox' || positionals.length !== 1) throw new UsageError('say `yinling sms outbox`');
      const limit = values.limit === undefined ? 10 : Number(values.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive whole number');
      const db = await openDatabase({ config, migrate: true });
      try {
        const { rows } = await db.pool.query(
          `SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') || '+08:00' AS sent, phone, channel, status, body
             FROM sms_outbox ORDER BY sms_id DESC LIMIT $1`,
          [limit]
        );
        if (!rows.length) console.log('no messages yet');
        for (const r of rows) console.log(`${r.sent}  ${r.phone}  [${r.channel}${r.status === 'failed' ? ', FAILED' : ''}]\n  ${r.body}`);
      } finally {
        await db.close();
      }
      return 0;
    }
  },

  payroll: payrollCommand,

  jobs: {
    summary: 'list recent job runs with their counts',
    usage: '[--limit N] [--job NAME]',
    async run(argv, config) {
      const { values } = parse(argv, { limit: { type: 'string' }, job: { type: 'string' } });
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive whole number');
      const db = await openDatabase({ config, migrate: true });
      try {
        const { rows } = await db.pool.query(
          `SELECT run_id, job, trigger, status, ${shanghaiIsoSql('started_at')} AS started,
                  round(extract(epoch FROM finished_at - started_at)::numeric, 1) AS seconds,
                  rows_read, rows_loaded, rows_replaced, rows_quarantined, error
             FROM job_runs WHERE ($2::text IS NULL OR job = $2) ORDER BY started_at DESC, run_id DESC LIMIT $1`,
          [limit, values.job ?? null]
        );
        if (!rows.length) console.log('no job runs yet');
        else console.table(rows.map((r) => ({ ...r, error: r.error ?? '' })));
      } finally {
        await db.close();
      }
      return 0;
    }
  },

  // the auditors' workbench (jobs/cli/workbench.ts)
  ...WORKBENCH_COMMANDS
};
