// Environment parsed once, failing fast with a clear message. Every setting has a default
// that makes `npm start` work on a fresh machine; the README lists them all.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got "${raw}"`);
  return n;
}

export interface Config {
  /** A real server's URL; when unset the embedded PostgreSQL is started. */
  databaseUrl: string | undefined;
  /**
   * With DATABASE_URL: the application role's login on that server (yinling_app, migration 0039), which the web
   * server and the workbench services use; DATABASE_URL's user owns the schema and runs migrations and jobs.
   */
  appDatabaseUrl: string | undefined;
  /** Where the embedded PostgreSQL keeps its cluster. */
  dataDir: string;
  /** YINLING_DATA_DIR was set: the operator chose the data dir, so the cluster is never kept elsewhere. */
  dataDirFromEnv: boolean;
  /** Port of the embedded PostgreSQL (loopback only). */
  embeddedPgPort: number;
  /** Department feed inbox: <inbox>/<feed>/*.csv */
  inboxDir: string;
  port: number;
  host: string;
  /** The built web app `serve` runs (`up` keeps ROOT/build current). */
  webBuildDir: string;
  /** node-cron expressions per scheduled job (payrollCheck: the pre-payroll check of the current month). */
  schedules: { ingest: string; engines: string; payrollCheck: string };
  /** The scheduled pickup leaves files modified less than this long ago for its next run. */
  inboxSettleSeconds: number;
  /** Never generate the demo city or its accounts (production: YINLING_NO_DEMO=1, or `up --no-demo`). */
  noDemo: boolean;
  /** The size of the generated demo city: demo (≈ 20,000 recipients) or tiny (a few hundred, for a quick look). */
  demoScale: 'demo' | 'tiny';
}

function demoScale(v: string | undefined): 'demo' | 'tiny' {
  if (!v || v === 'demo') return 'demo';
  if (v === 'tiny') return 'tiny';
  throw new Error(`YINLING_DEMO_SCALE must be demo or tiny, not "${v}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.YINLING_DATA_DIR || path.join(ROOT, '.data'));
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    appDatabaseUrl: env.YINLING_APP_DATABASE_URL || undefined,
    dataDir,
    dataDirFromEnv: !!env.YINLING_DATA_DIR,
    embeddedPgPort: intEnv('YINLING_PG_PORT', 54329),
    inboxDir: path.resolve(env.YINLING_INBOX || path.join(dataDir, 'inbox')),
    port: intEnv('PORT', 3000),
    host: env.HOST || '0.0.0.0',
    webBuildDir: path.resolve(env.YINLING_WEB_BUILD || path.join(ROOT, 'build')),
    schedules: {
      ingest: env.YINLING_SCHEDULE_INGEST || '*/5 * * * *',
      engines: env.YINLING_SCHEDULE_ENGINES || '30 2 * * *',
      payrollCheck: env.YINLING_SCHEDULE_PAYROLL_CHECK || '0 7 12 * *'
    },
    inboxSettleSeconds: intEnv('YINLING_INBOX_SETTLE_SECONDS', 60),
    noDemo: ['1', 'true', 'yes'].includes((env.YINLING_NO_DEMO ?? '').toLowerCase()),
    demoScale: demoScale(env.YINLING_DEMO_SCALE)
  };
}
