// Which path a database is on — TimescaleDB or plain PostgreSQL — and why, in one line for the operator.
//
// Migration 0001 decides whether to create the extension, and must decide before trying: CREATE EXTENSION
// timescaledb on a server that has the files but does not preload the library ends the connection with
// FATAL (`extension "timescaledb" must be preloaded`), which no EXCEPTION block catches. The rule, here and
// in 0001's DO block (keep the two alike):
//   * the extension already exists in the database       → TimescaleDB;
//   * the server has no timescaledb extension files       → plain;
//   * shared_preload_libraries cannot be read by this role → plain: only superusers and members of
//     pg_read_all_settings see it, and a role that is neither cannot create timescaledb (not a trusted
//     extension) anyway;
//   * shared_preload_libraries lacks timescaledb          → plain (add it and restart the server);
//   * otherwise CREATE EXTENSION; an ordinary error there (no privilege) → plain.
import type { Queryable } from './pool.ts';

export interface TimescaleFacts {
  /** extversion when the extension exists in this database, else null. */
  extension: string | null;
  /** The server has the extension's files (pg_available_extensions). */
  available: boolean;
  /** shared_preload_libraries, or null when this role cannot read it. */
  preload: string | null;
}

/** Does a shared_preload_libraries value load TimescaleDB? Entries may be quoted, carry a path, a version or `.so`. */
export function preloadsTimescale(setting: string): boolean {
  return setting.split(',').some((raw) => {
    const lib = raw.trim().replace(/^"|"$/g, '').trim().replace(/^.*\//, '');
    return /^timescaledb(-\d+(\.\d+)*)?(\.so)?$/.test(lib);
  });
}

export function timescalePath(f: TimescaleFacts): { timescale: boolean; line: string } {
  if (f.extension !== null)
    return { timescale: true, line: `TimescaleDB ${f.extension} (the timescaledb extension is active in this database)` };
  const plain = (why: string) => ({ timescale: false, line: `plain PostgreSQL: ${why}` });
  if (!f.available) return plain('the timescaledb extension is not installed on this server');
  if (f.preload === null) {
    return plain(
      'timescaledb is installed, but this role can neither read shared_preload_libraries nor create the extension (a superuser can: CREATE EXTENSION timescaledb, then migrate again)'
    );
  }
  if (!preloadsTimescale(f.preload)) {
    return plain(
      `timescaledb is installed but not preloaded (shared_preload_libraries = '${f.preload}'); add it there and restart the server to use it`
    );
  }
  return plain(
    'timescaledb is preloaded but the extension is not created in this database (CREATE EXTENSION timescaledb needs a superuser; then migrate again)'
  );
}

export async function timescaleFacts(q: Queryable): Promise<TimescaleFacts> {
  const r = await q.query(
    `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS extension,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload`
  );
  const row = r.rows[0];
  return { extension: row.extension ?? null, available: row.available === true, preload: row.preload ?? null };
}

/** The one line: which path this database is on, and why. */
export async function describeTimescale(q: Queryable): Promise<{ timescale: boolean; line: string }> {
  return timescalePath(await timescaleFacts(q));
}
