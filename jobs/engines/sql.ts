// Runs the engines' SQL files (sql/engines/<name>.sql) by name. A file opens with a header comment
// (-- name:, -- params:, -- purpose:) and holds one or more statements separated by `;` at the
// end of a line; `-- step: <label>` before a statement names it in the counts. Parameters are
// written `:name` (never inside string literals) and bound as $1…$n, so values are never spliced
// into SQL text. Files are parsed once and cached.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../core/config.ts';

export const ENGINE_SQL_DIR = path.join(ROOT, 'sql', 'engines');

export interface SqlStep {
  label: string;
  text: string;
  params: string[];
}
export interface SqlFile {
  name: string;
  header: Record<string, string>;
  steps: SqlStep[];
}

import type { Queryable } from '../../core/db/pool.ts';
export type { Queryable };

/** Split SQL text into statements on top-level `;` (outside quotes, dollar quotes and comments). */
export function splitStatements(sql: string): { text: string; label: string | null }[] {
  const out: { text: string; label: string | null }[] = [];
  let start = 0;
  let label: string | null = null;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const line = sql.slice(i, end < 0 ? n : end);
      const m = /^--\s*step:\s*(.+?)\s*$/.exec(line);
      if (m) label = m[1];
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? n : end + m[0].length;
      } else i++;
    } else if (c === ';') {
      const text = sql.slice(start, i).trim();
      if (stripComments(text)) out.push({ text, label });
      label = null;
      start = i + 1;
      i++;
    } else i++;
  }
  const rest = sql.slice(start).trim();
  if (stripComments(rest)) out.push({ text: rest, label });
  return out;
}

function stripComments(s: string): string {
  return s
    .replace(/--[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .trim();
}

/** Replace :name placeholders (not ::casts) with $n outside literals; returns text and parameter order. */
export function bindNames(text: string): { text: string; params: string[] } {
  const params: string[] = [];
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const e = end < 0 ? n : end;
      out += text.slice(i, e);
      i = e;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (text[j] === c) {
          if (text[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))![0];
      const end = text.indexOf(tag, i + tag.length);
      const e = end < 0 ? n : end + tag.length;
      out += text.slice(i, e);
      i = e;
    } else if (c === ':' && text[i + 1] === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && /[a-z_]/.test(text[i + 1] ?? '')) {
      const m = /^:([a-z_][a-z0-9_]*)/.exec(text.slice(i))!;
      let idx = params.indexOf(m[1]);
      if (idx < 0) {
        params.push(m[1]);
        idx = params.length - 1;
      }
      out += '$' + (idx + 1);
      i += m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, params };
}

const cache = new Map<string, SqlFile>();

export function loadSqlFile(name: string): SqlFile {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = path.join(ENGINE_SQL_DIR, `${name}.sql`);
  const raw = fs.readFileSync(file, 'utf8');
  const header: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    if (!line.startsWith('--')) break;
    const m = /^--\s*(name|params|purpose):\s*(.*)$/.exec(line);
    if (m) header[m[1]] = m[2].trim();
  }
  if (header.name !== name) throw new Error(`sql/engines/${name}.sql must open with "-- name: ${name}"`);
  const steps = splitStatements(raw).map((s, k) => {
    const b = bindNames(s.text);
    return { label: s.label ?? `${name}#${k + 1}`, text: b.text, params: b.params };
  });
  const declared = new Set(
    (header.params ?? '')
      .split(',')
      .map((p) => p.trim().split(/\s/)[0])
      .filter(Boolean)
  );
  for (const s of steps)
    for (const p of s.params) {
      if (!declared.has(p)) throw new Error(`sql/engines/${name}.sql uses :${p} but its header does not declare it in "-- params:"`);
    }
  const parsed = { name, header, steps };
  cache.set(name, parsed);
  return parsed;
}

export interface StepResult {
  label: string;
  rows: number;
  ms: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are whatever the step selects
  result: any[];
}

/**
 * Run every statement of a file in order on one client (the caller owns the transaction).
 * Returns per-step row counts and the rows of each step.
 */
export async function runSqlFile(
  client: Queryable,
  name: string,
  params: Record<string, unknown>,
  log?: (m: string) => void,
  /** awaited before each step: a job that must wait for work beside it before a step (indicator-facts) */
  beforeStep?: (label: string) => Promise<void>
): Promise<StepResult[]> {
  const file = loadSqlFile(name);
  const results: StepResult[] = [];
  for (const step of file.steps) {
    await beforeStep?.(step.label);
    const values = step.params.map((p) => {
      if (!(p in params)) throw new Error(`sql/engines/${name}.sql step "${step.label}" needs parameter :${p}`);
      const v = params[p];
      return v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) ? JSON.stringify(v) : v;
    });
    const t0 = Date.now();
    let r;
    try {
      r = await client.query(step.text, values);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`sql/engines/${name}.sql step "${step.label}": ${msg}`, { cause: e });
    }
    const res: StepResult = { label: step.label, rows: r.rowCount ?? 0, ms: Date.now() - t0, result: r.rows };
    results.push(res);
    log?.(`  ${name}: ${step.label} — ${res.rows} rows, ${res.ms} ms`);
  }
  return results;
}

/** Rows of the step with that label (throws when absent: a renamed step must not pass silently). */
export function stepRows(results: StepResult[], label: string): StepResult['result'] {
  const r = results.find((s) => s.label === label);
  if (!r) throw new Error(`no step "${label}"`);
  return r.result;
}
export function stepCount(results: StepResult[], label: string): number {
  const r = results.find((s) => s.label === label);
  if (!r) throw new Error(`no step "${label}"`);
  return r.rows;
}
