// The most common first try on a server: root clones Yinling into its home (/root is 0700) or a
// `mktemp -d` directory (0700 too) and runs `npm start`. PostgreSQL will not run as root, so it runs as the
// "postgres" system user, who cannot enter that directory: neither the server binaries in node_modules nor
// the cluster in .data. `yinling up` must still reach a healthy /healthz — with the binaries copied and the
// cluster kept under /var/lib/yinling, .data/pg linking there — stop cleanly on Ctrl-C, and find the same
// cluster at the next start. Where it cannot (a YINLING_DATA_DIR out of that user's reach), one sentence.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl, SYSTEM_DIR } from '../../core/db/embedded.ts';
import { freePort } from '../../tests/free-port.ts';
import { ensureBuild, ROOT } from './support/build.ts';
import { untilHealthy } from './support/health.ts';
import { alive } from './support/processes.ts';

const asRoot = process.getuid?.() === 0;
/** Not copied into the 0700 directory: what a fresh clone has not got (node_modules comes as hard links). */
const NOT_COPIED = new Set(['node_modules', '.git', '.data', 'build', 'test-results', '.cache']);

let home = ''; // the 0700 directory
let checkout = '';
let buildDir = '';
let cluster = ''; // the directory under SYSTEM_DIR that holds the cluster this test made
const children: ChildProcess[] = [];

const pidFile = () => path.join(checkout, '.data', 'pg', 'postmaster.pid');
const postmasterPid = () => Number(fs.readFileSync(pidFile(), 'utf8').split('\n')[0]);

const baseEnv = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'YINLING_MODEL_DIR', 'YINLING_INBOX', 'YINLING_DATA_DIR'].includes(k))
  );

/** `yinling up` from the checkout, as `npm start` runs it there, until /healthz answers. */
async function up(): Promise<{ child: ChildProcess; text: () => string; url: string; pgPort: number }> {
  const port = await freePort();
  const pgPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const text = () => output.join('');
  // detached: `up` leads its own process group, as a command started from a shell does.
  const child = spawn(process.execPath, [path.join(checkout, 'jobs', 'cli', 'bin.js'), 'up', '--no-demo'], {
    cwd: checkout,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...baseEnv(),
      PORT: String(port),
      YINLING_PG_PORT: String(pgPort),
      HOST: '127.0.0.1',
      YINLING_WEB_BUILD: buildDir,
      NODE_ENV: 'production'
    }
  });
  children.push(child);
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  await untilHealthy(url, 'yinling up (as root, from a 0700 directory)', { child, output: text, ms: 180_000 });
  return { child, text, url, pgPort };
}

/** Ctrl-C in the terminal: SIGINT to the whole process group. */
async function stop(run: { child: ChildProcess; text: () => string }): Promise<void> {
  const pm = postmasterPid();
  const exited = new Promise<number | null>((r) => run.child.once('exit', (code) => r(code)));
  process.kill(-run.child.pid!, 'SIGINT');
  expect(await exited, run.text()).toBe(0);
  expect(run.text()).toMatch(/SIGINT: stopping…[\s\S]*Stopped\./);
  expect(alive(pm), 'the postmaster outlived yinling up').toBe(false);
  expect(fs.existsSync(pidFile())).toBe(false);
}

async function systemIdentifier(pgPort: number): Promise<string> {
  const client = new pg.Client({ connectionString: embeddedUrl(pgPort, path.join(checkout, '.data')) });
  await client.connect();
  try {
    return (await client.query(`SELECT system_identifier::text AS id FROM pg_control_system()`)).rows[0].id;
  } finally {
    await client.end();
  }
}

describe.skipIf(!asRoot)('yinling up as root from a 0700 directory (runs only when the tests run as root, as CI does)', () => {
  beforeAll(async () => {
    buildDir = await ensureBuild();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-root-home-')); // 0700, as `mktemp -d` and /root
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    checkout = path.join(home, 'yinling');
    fs.cpSync(ROOT, checkout, { recursive: true, filter: (src) => !NOT_COPIED.has(path.relative(ROOT, src)) });
    // Hard links: a second's work, and the binaries really are inside the 0700 directory. Another filesystem: a copy.
    const modules = [path.join(ROOT, 'node_modules'), path.join(checkout, 'node_modules')];
    if (spawnSync('cp', ['-al', ...modules]).status !== 0) {
      fs.rmSync(modules[1], { recursive: true, force: true });
      execFileSync('cp', ['-a', ...modules]);
    }
  }, 600_000);

  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        await new Promise<void>((r) => {
          c.once('exit', () => r());
          process.kill(-c.pid!, 'SIGKILL');
        });
      }
    }
    try {
      const pm = postmasterPid();
      if (alive(pm)) process.kill(pm, 'SIGQUIT');
    } catch {
      /* stopped */
    }
    // The copied binaries (SYSTEM_DIR/postgres-…) stay: one copy per package version, shared by every checkout.
    if (cluster.startsWith(SYSTEM_DIR + '/')) fs.rmSync(cluster, { recursive: true, force: true });
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('reaches a healthy /healthz, stops cleanly on Ctrl-C, and the next start reuses the same cluster', async () => {
    const first = await up();
    const health = (await (await fetch(`${first.url}/healthz`)).json()) as { database?: { status?: string } };
    expect(health.database?.status, JSON.stringify(health)).toBe('ok');
    const link = path.join(checkout, '.data', 'pg');
    expect(fs.lstatSync(link).isSymbolicLink(), 'the checkout’s .data/pg links to the cluster').toBe(true);
    const target = fs.readlinkSync(link);
    cluster = path.dirname(target);
    expect(path.dirname(cluster)).toBe(SYSTEM_DIR);
    const where = `data in ${target}, linked from ${link}; server binaries`;
    expect(first.text(), 'one line says where the cluster is and why').toContain(`Starting the embedded PostgreSQL (${where}`);
    expect(first.text()).toMatch(/cannot reach .*\/\.data\)/);
    const id = await systemIdentifier(first.pgPort);
    await stop(first);

    const second = await up();
    expect(second.text()).toContain(`Starting the embedded PostgreSQL (${where} from ${SYSTEM_DIR}/postgres-`);
    expect(await systemIdentifier(second.pgPort), 'the second start found the same cluster').toBe(id);
    await stop(second);
  }, 420_000);

  it('says in one sentence what to set when YINLING_DATA_DIR is out of the postgres user’s reach', async () => {
    const dataDir = path.join(home, 'chosen-data');
    const r = spawnSync(process.execPath, [path.join(checkout, 'jobs', 'cli', 'bin.js'), 'migrate'], {
      cwd: checkout,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...baseEnv(), YINLING_DATA_DIR: dataDir, YINLING_PG_PORT: String(await freePort()) }
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toEqual([
      `yinling migrate: The "postgres" system user, which runs the database because PostgreSQL will not run as root, cannot reach ` +
        `YINLING_DATA_DIR (${dataDir}): set it to a directory that user can reach (or unset it, and Yinling keeps the database under ${SYSTEM_DIR}), or set DATABASE_URL.`
    ]);
    expect(fs.existsSync(path.join(dataDir, 'pg')), 'nothing was made there').toBe(false);
  }, 120_000);
});
