import { describe, expect, it } from 'vitest';
import { preloadsTimescale, timescalePath } from './timescale.ts';

describe('shared_preload_libraries', () => {
  it('finds timescaledb however the entry is written', () => {
    for (const s of [
      'timescaledb',
      'pg_stat_statements,timescaledb',
      ' pg_stat_statements , timescaledb ',
      '"timescaledb"',
      '$libdir/timescaledb',
      'timescaledb.so',
      'timescaledb-2.28.3',
      'auto_explain, "$libdir/timescaledb.so"'
    ]) {
      expect(preloadsTimescale(s), s).toBe(true);
    }
  });
  it('does not take another library for it', () => {
    for (const s of ['', 'pg_stat_statements', 'timescaledb_toolkit', 'timescaledb-tsl-2.28.3', 'pg_timescaledb', 'timescale']) {
      expect(preloadsTimescale(s), s).toBe(false);
    }
  });
});

describe('which path, and why (the rule of migration 0001)', () => {
  it('TimescaleDB once the extension exists, whatever else', () => {
    expect(timescalePath({ extension: '2.28.3', available: true, preload: null })).toEqual({
      timescale: true,
      line: 'TimescaleDB 2.28.3 (the timescaledb extension is active in this database)'
    });
  });
  it('plain when the server has no timescaledb', () => {
    expect(timescalePath({ extension: null, available: false, preload: 'timescaledb' })).toEqual({
      timescale: false,
      line: 'plain PostgreSQL: the timescaledb extension is not installed on this server'
    });
  });
  it('plain, not a dead connection, when timescaledb is installed but not preloaded', () => {
    const p = timescalePath({ extension: null, available: true, preload: 'pg_stat_statements' });
    expect(p.timescale).toBe(false);
    expect(p.line).toBe(
      "plain PostgreSQL: timescaledb is installed but not preloaded (shared_preload_libraries = 'pg_stat_statements'); add it there and restart the server to use it"
    );
  });
  it('plain when this role cannot read shared_preload_libraries (it could not create the extension either)', () => {
    const p = timescalePath({ extension: null, available: true, preload: null });
    expect(p.timescale).toBe(false);
    expect(p.line).toMatch(
      /^plain PostgreSQL: timescaledb is installed, but this role can neither read shared_preload_libraries nor create the extension/
    );
  });
  it('plain when preloaded but the extension could not be created', () => {
    const p = timescalePath({ extension: null, available: true, preload: 'timescaledb' });
    expect(p.timescale).toBe(false);
    expect(p.line).toMatch(/^plain PostgreSQL: timescaledb is preloaded but the extension is not created/);
  });
});
