// Resolves the database for a command: DATABASE_URL when set; otherwise the embedded PostgreSQL
// under the data dir — reused when `yinling up` already runs it, started (and later stopped) if not.
//
// Two logins (migration 0039): `url` is the owner's — migrations, ingest, engines, backup, restore — and
// `appUrl` the application role's, which is no superuser and may only append to audit_log: the web server
// and the workbench services use it (`as: 'app'` gives a pool on it).
import { loadConfig, type Config } from '../config.ts';
import { APP_ROLE, embeddedAppUrl, embeddedUrl, portInUse, startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';
import { loadCatalogues } from '../reference/load.ts';
import { createPool, endPool, type Pool } from './pool.ts';

export interface Database {
  /** The owner's URL (migrations, jobs). */
  url: string;
  /** The application role's URL (the web server, the workbench services); the owner's when there is none (appRole false). */
  appUrl: string;
  /** Whether appUrl is the application role's own login; when not, appRoleMissing says why. */
  appRole: boolean;
  appRoleMissing?: string;
  /** On `url`, or on `appUrl` when opened `as: 'app'`. */
  pool: Pool;
  /** true when this process started the embedded server (and must stop it). */
  ownsServer: boolean;
  close(): Promise<void>;
}

export async function openDatabase(
  opts: { config?: Config; log?: (m: string) => void; migrate?: boolean; poolMax?: number; as?: 'owner' | 'app' } = {}
): Promise<Database> {
  const config = opts.config ?? loadConfig();
  const log = opts.log ?? (() => {});
  let url: string;
  let appUrl: string | null;
  let stop: (() => Promise<void>) | undefined;
  if (config.databaseUrl) {
    url = config.databaseUrl;
    appUrl = config.appDatabaseUrl ?? null;
  } else if (await portInUse(config.embeddedPgPort)) {
    url = embeddedUrl(config.embeddedPgPort, config.dataDir);
    appUrl = embeddedAppUrl(config.embeddedPgPort, config.dataDir);
    log(`Using the embedded PostgreSQL already running on port ${config.embeddedPgPort}`);
  } else {
    // The server's own log is not shown, except a recovery after a crash: it can take minutes and would
    // otherwise look like a hang. (A failed start reports the server's last lines in its error.)
    const serverLog = (m: string) => {
      for (const line of m.split('\n'))
        if (/recovery|not properly shut down|PANIC/.test(line)) log(`[postgres] ${line.replace(/^.*? LOG: */, '')}`);
    };
    // It says where the data is (as root, maybe under /var/lib/yinling: see embedded.ts) and why.
    const server = await startEmbeddedPostgres({
      dir: config.dataDir,
      port: config.embeddedPgPort,
      log: serverLog,
      notice: log,
      relocatable: !config.dataDirFromEnv
    });
    url = server.url;
    appUrl = server.appUrl;
    stop = () => server.stop();
  }
  if (opts.migrate) {
    const applied = await migrate(url, log);
    if (applied.length) log(`Applied migrations: ${applied.join(', ')}`);
  }
  const pool = createPool(opts.as === 'app' ? (appUrl ?? url) : url, { max: opts.poolMax ?? 6 });
  try {
    if (opts.migrate) {
      // the catalogues are the owner's to load
      const owner = opts.as === 'app' ? createPool(url, { max: 1 }) : pool;
      try {
        await loadCatalogues(owner);
      } finally {
        if (owner !== pool) await endPool(owner);
      }
    }
    await pool.query('SELECT 1');
  } catch (e) {
    await endPool(pool);
    await stop?.();
    throw e;
  }
  return {
    url,
    appUrl: appUrl ?? url,
    appRole: !!appUrl,
    appRoleMissing: appUrl
      ? undefined
      : config.databaseUrl
        ? `YINLING_APP_DATABASE_URL is not set: connecting as the owner (DATABASE_URL), whose audit_log is append-only by its trigger only — create the role ${APP_ROLE} and set it (README, "Running it for real")`
        : `the embedded PostgreSQL running now has no application role yet (started by an older version): connecting as the owner until its next start`,
    pool,
    ownsServer: !!stop,
    async close() {
      await endPool(pool);
      await stop?.();
    }
  };
}
