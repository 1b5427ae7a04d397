// The operators' CLI: exit codes 0/1/2, --help everywhere, one clear line instead of a stack trace.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { COMMANDS } from '../jobs/cli/commands.ts';

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('yinling CLI', () => {
  it('answers --help for every command with exit 0', () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = run([name, '--help']);
      expect(r.status, name).toBe(0);
      expect(r.stdout, name).toContain(`Usage: yinling ${name}`);
    }
  });

  it('exits 2 on bad usage with a clear message', () => {
    expect(run(['no-such-command']).status).toBe(2);
    const r = run(['run', 'no-such-job']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/job must be one of .*certify/);
    expect(run(['export', 'persons', '--format', 'xml']).status).toBe(2);
    expect(run(['run', 'certify', '--as-of', '2026-13-01']).status).toBe(2);
  });

  it('exits 1 with one line, not a stack trace, when the database is unreachable', () => {
    const r = run(['jobs'], { DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^yinling jobs: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
