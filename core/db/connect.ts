// Resolves the database for a command: DATABASE_URL when set; otherwise the embedded PostgreSQL
// under the data dir — reused when `yinling up` already runs it, started (and later stopped) if not.
import { loadConfig, type Config } from '../config.ts';
import { embeddedUrl, portInUse, startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';
import { loadCatalogues } from '../reference/load.ts';
import { createPool, endPool, type Pool } from './pool.ts';

export interface Database {
  url: string;
  pool: Pool;
  /** true when this process started the embedded server (and must stop it). */
  ownsServer: boolean;
  close(): Promise<void>;
}

export async function openDatabase(
  opts: { config?: Config; log?: (m: string) => void; migrate?: boolean; poolMax?: number } = {}
): Promise<Database> {
  const config = opts.config ?? loadConfig();
  const log = opts.log ?? (() => {});
  let url: string;
  let stop: (() => Promise<void>) | undefined;
  if (config.databaseUrl) {
    url = config.databaseUrl;
  } else if (await portInUse(config.embeddedPgPort)) {
    url = embeddedUrl(config.embeddedPgPort, config.dataDir);
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
    stop = () => server.stop();
  }
  if (opts.migrate) {
    const applied = await migrate(url, log);
    if (applied.length) log(`Applied migrations: ${applied.join(', ')}`);
  }
  const pool = createPool(url, { max: opts.poolMax ?? 6 });
  try {
    if (opts.migrate) await loadCatalogues(pool);
    await pool.query('SELECT 1');
  } catch (e) {
    await endPool(pool);
    await stop?.();
    throw e;
  }
  return {
    url,
    pool,
    ownsServer: !!stop,
    async close() {
      await endPool(pool);
      await stop?.();
    }
  };
}
