// The web server and the scheduler that `yinling up` forks stop when `up` is gone — also when it was
// killed with SIGKILL, which it cannot catch or pass on. Before, an orphaned web server went on holding
// the port, and the next `npm start` failed with the port in use.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { alive } from '../dashboard/e2e/support/processes.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('yinling up: its children', () => {
  it('a forked scheduler stops by itself when `up` is killed with SIGKILL', async () => {
    // a stand-in for `up`: forks `yinling scheduler` as up does (an IPC channel, YINLING_MANAGED_BY_UP) and waits
    const parentCode = `
      const { fork } = require('node:child_process');
      const c = fork(${JSON.stringify(path.join(ROOT, 'jobs', 'cli', 'bin.js'))}, ['scheduler'], { stdio: 'inherit' });
      console.log('child ' + c.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', parentCode], {
      env: { ...process.env, DATABASE_URL: db.url, YINLING_MANAGED_BY_UP: '1', YINLING_SCHEDULE_INGEST: '0 0 1 1 *' },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    parent.stdout.on('data', (d) => (out += d));
    parent.stderr.on('data', (d) => (out += d));
    let child = 0;
    try {
      const t0 = Date.now();
      while (!/scheduler:/.test(out) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 200));
      child = Number(/child (\d+)/.exec(out)?.[1]);
      expect(out, out).toMatch(/scheduler:/); // started: its schedule printed
      expect(alive(child)).toBe(true);
      parent.kill('SIGKILL');
      const t1 = Date.now();
      while (alive(child) && Date.now() - t1 < 20_000) await new Promise((r) => setTimeout(r, 200));
      expect(alive(child), 'the scheduler outlived `up`').toBe(false);
    } finally {
      if (parent.exitCode === null) parent.kill('SIGKILL');
      if (child && alive(child)) process.kill(child, 'SIGKILL');
    }
  }, 120_000);
});
