// The embedded PostgreSQL's superuser password is this installation's own (issue 19 §7): random at the first
// start, kept in the data dir readable by its owner only, the same at the next start; a cluster made with
// the old password every installation shared gets its own at its next start, and the old one stops working.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPassword, embeddedUrl, PASSWORD_FILE, scratchDir, startEmbeddedPostgres } from '../core/db/embedded.ts';
import { freePort } from './free-port.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (e) {
    if (/password authentication failed/.test((e as Error).message)) return false;
    throw e;
  } finally {
    await c.end().catch(() => {});
  }
}
const withPassword = (url: string, password: string) => url.replace(/:[^:@/]+@/, `:${encodeURIComponent(password)}@`);

describe('the embedded superuser password', () => {
  it('is random per installation, owner-only, and the same at the next start', async () => {
    const [a, b] = [scratchDir('yinling-pw-a-'), scratchDir('yinling-pw-b-')];
    dirs.push(a, b);
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dir: a, port });
    const password = embeddedPassword(a)!;
    try {
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(fs.statSync(path.join(a, PASSWORD_FILE)).mode & 0o777).toBe(0o600);
      expect(first.url).toBe(embeddedUrl(port, a));
      expect(await canConnect(first.url)).toBe(true);
      expect(await canConnect(withPassword(first.url, 'yinling-local'))).toBe(false);
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dir: a, port });
    try {
      expect(embeddedPassword(a)).toBe(password);
      expect(await canConnect(again.url)).toBe(true);
    } finally {
      await again.stop();
    }
    const other = await startEmbeddedPostgres({ dir: b, port });
    try {
      expect(embeddedPassword(b)).not.toBe(password);
    } finally {
      await other.stop();
    }
    const none = scratchDir('yinling-pw-none-');
    dirs.push(none);
    expect(() => embeddedUrl(port, none)).toThrow(/No database password/);
  }, 180_000);

  it('replaces the password every installation shared on a cluster made before', async () => {
    const dir = scratchDir('yinling-pw-legacy-');
    dirs.push(dir);
    const port = await freePort();
    const s = await startEmbeddedPostgres({ dir, port });
    // as a cluster of an earlier release: the shared password, no password file
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    await c.query(`ALTER ROLE yinling PASSWORD 'yinling-local'`);
    await c.end();
    await s.stop();
    fs.rmSync(path.join(dir, PASSWORD_FILE));
    const notices: string[] = [];
    const upgraded = await startEmbeddedPostgres({ dir, port, notice: (m) => notices.push(m) });
    try {
      const password = embeddedPassword(dir)!;
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(notices.join('\n')).toMatch(/password is now this installation's own/);
      expect(await canConnect(upgraded.url)).toBe(true);
      expect(await canConnect(withPassword(upgraded.url, 'yinling-local'))).toBe(false);
    } finally {
      await upgraded.stop();
    }
  }, 180_000);
});
