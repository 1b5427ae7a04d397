// A private build of the web app for browser tests and the screen benchmark. The checkout is
// shared (others run `vite build` into build/ at any time), so the sources are copied into
// test-results/e2e-app/ (node_modules symlinked) and built there; the build is reused while the
// sources are unchanged (a hash of paths, sizes and mtimes). A lock directory serialises the
// test files that ask at the same time.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const APP = path.join(ROOT, 'test-results', 'e2e-app');
const LOCK = path.join(ROOT, 'test-results', 'e2e-app.lock');
const SOURCES = ['core', 'dashboard', 'semantic-layer', 'jobs', 'seeds', 'sql'];
const FILES = ['svelte.config.js', 'vite.config.ts', 'package.json', 'tsconfig.json'];
const SKIP = /(^|\/)(node_modules|\.svelte-kit|e2e|\.data)(\/|$)|\.test\.ts$/;

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const rel = path.relative(ROOT, p);
    if (SKIP.test(rel)) continue;
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(rel);
  }
}

function sourceHash(): { hash: string; files: string[] } {
  const files: string[] = [...FILES];
  for (const d of SOURCES) if (fs.existsSync(path.join(ROOT, d))) walk(path.join(ROOT, d), files);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    const st = fs.statSync(path.join(ROOT, f));
    h.update(`${f}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return { hash: h.digest('hex').slice(0, 16), files };
}

async function withLock<T>(fn: () => T): Promise<T> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than 10 minutes belongs to a crashed run.
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 600_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() - started > 900_000) throw new Error('timed out waiting for the e2e build lock');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** The directory of a current private build (contains handler.js). */
export async function ensureBuild(): Promise<string> {
  return withLock(() => {
    const { hash, files } = sourceHash();
    const out = path.join(APP, 'build');
    const stamp = path.join(APP, '.source-hash');
    if (fs.existsSync(path.join(out, 'handler.js')) && fs.readFileSync(stamp, 'utf8').trim() === hash) return out;
    for (const d of [...SOURCES, ...FILES, 'build', '.svelte-kit']) fs.rmSync(path.join(APP, d), { recursive: true, force: true });
    fs.mkdirSync(APP, { recursive: true });
    for (const f of files) {
      const to = path.join(APP, f);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), to);
    }
    const nm = path.join(APP, 'node_modules');
    if (!fs.existsSync(nm)) fs.symlinkSync(path.join(ROOT, 'node_modules'), nm, 'dir');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error'], {
      cwd: APP,
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' }
    });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
    fs.writeFileSync(stamp, hash + '\n');
    return out;
  });
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  console.log(await ensureBuild());
}
