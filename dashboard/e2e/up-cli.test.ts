// `yinling up` — what `npm start` runs — stopped the way an operator stops it: Ctrl-C in the terminal,
// which sends SIGINT to the whole foreground process group. The embedded PostgreSQL must not be in that
// group: the web server and the scheduler stop first, with the database still there for them, then the
// database. Nothing may be left running, and the log must not show connections cut by the shutdown.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl, scratchDir } from '../../core/db/embedded.ts';
import { freePort } from '../../tests/free-port.ts';
import { ensureBuild, ROOT } from './support/build.ts';
import { untilHealthy } from './support/health.ts';
import { alive } from './support/processes.ts';

let child: ChildProcess | undefined;
let dataDir = '';
let url = '';
const output: string[] = [];
const text = () => output.join('');

/** Field 5 of /proc/PID/stat: the process group. */
const processGroup = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
const postmasterPid = () => Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

beforeAll(async () => {
  const buildDir = await ensureBuild();
  dataDir = scratchDir('yinling-up-');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'YINLING_MODEL_DIR', 'YINLING_INBOX'].includes(k))
  );
  // detached: `up` leads its own process group, as a command started from a shell does.
  child = spawn(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), 'up', '--no-demo'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      YINLING_DATA_DIR: dataDir,
      PORT: String(port),
      YINLING_PG_PORT: String(await freePort()),
      HOST: '127.0.0.1',
      YINLING_WEB_BUILD: buildDir,
      NODE_ENV: 'production'
    }
  });
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  await untilHealthy(url, 'yinling up', { child, output: text, ms: 120_000 });
}, 600_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise<void>((r) => {
      child!.once('exit', () => r());
      process.kill(-child!.pid!, 'SIGKILL');
    });
  }
  try {
    const pm = postmasterPid();
    if (alive(pm)) process.kill(pm, 'SIGQUIT');
  } catch {
    /* stopped */
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('yinling up, stopped with Ctrl-C', () => {
  it('keeps the database out of the terminal’s process group and stops it last, cleanly', async () => {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { database?: { status?: string; schemaVersion?: string } };
    expect(health.database?.status, JSON.stringify(health)).toBe('ok');
    expect(health.database?.schemaVersion).toMatch(/^\d{4}_/);
    const pm = postmasterPid();
    expect(alive(pm)).toBe(true);
    expect(processGroup(child!.pid!)).toBe(child!.pid);
    expect(processGroup(pm), 'the postmaster must lead its own process group').toBe(pm);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    process.kill(-child!.pid!, 'SIGINT'); // what the terminal does on Ctrl-C
    const code = await exited;
    const log = text();
    expect(code, log).toBe(0);
    expect(log).toMatch(/SIGINT: stopping…[\s\S]*Stopped\./);
    const cut = log.split('\n').filter((l) => /idle connection error|terminating connection|connection terminated/i.test(l));
    expect(cut, 'a connection was cut by the database shutting down first').toEqual([]);
    expect(alive(pm), 'the postmaster outlived yinling up').toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 120_000);
});

describe("yinling up on a first start whose inbox already holds an operator's files", () => {
  it('loads them as real data and creates no demo account (published passwords, two may unmask)', async () => {
    const dir = scratchDir('yinling-up-real-');
    const inbox = path.join(dir, 'inbox');
    fs.mkdirSync(path.join(inbox, 'regions'), { recursive: true });
    fs.writeFileSync(
      path.join(inbox, 'regions', 'regions.csv'),
      'code,name,level,parent_code\n330600,绍兴市,city,\n330602,越城区,district,330600\n'
    );
    const port = await freePort();
    const pgPort = await freePort();
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'YINLING_MODEL_DIR', 'YINLING_INBOX', 'YINLING_NO_DEMO'].includes(k))
    );
    const out: string[] = [];
    const real = spawn(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), 'up'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env,
        YINLING_DATA_DIR: dir,
        YINLING_INBOX: inbox,
        PORT: String(port),
        YINLING_PG_PORT: String(pgPort),
        HOST: '127.0.0.1',
        YINLING_WEB_BUILD: await ensureBuild(),
        NODE_ENV: 'production'
      }
    });
    real.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
    real.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
    try {
      await untilHealthy(`http://127.0.0.1:${port}`, 'yinling up', { child: real, output: () => out.join(''), ms: 180_000 });
      const pool = new pg.Pool({ connectionString: embeddedUrl(pgPort, dir), max: 1 });
      try {
        expect((await pool.query(`SELECT code FROM regions ORDER BY code`)).rows.map((r) => r.code)).toEqual(['330600', '330602']);
        expect((await pool.query(`SELECT count(*)::int AS n FROM staff_users`)).rows[0].n).toBe(0);
      } finally {
        await pool.end();
      }
      expect(out.join('')).toContain('created no demo accounts');
      expect(out.join('')).not.toContain('Demo accounts');
      const exited = new Promise<number | null>((r) => real.once('exit', (code) => r(code)));
      process.kill(-real.pid!, 'SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (real.exitCode === null) {
        try {
          process.kill(-real.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
