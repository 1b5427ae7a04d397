// Test oracle: Cube's own @cubejs-backend/schema-compiler (pinned devDependency) compiling the
// same YAML files and queries with its JavaScript planner (useNativeSqlPlanner: false). Its
// native module is not installed, so the YAML compiler gets a stand-in `nativeInstance` whose
// only job is to satisfy the Jinja-engine initialisation — our model has no Jinja templates, so
// nothing is ever rendered by it (a .jinja file or a `{%` in a YAML file would fail loudly).
// Results are read back the way Cube's Postgres driver and gateway do (UTC session, timestamps
// as local-format strings, rows keyed by member).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { NormalizedQuery } from '../engine/query.ts';

const require = createRequire(import.meta.url);

export interface CubeOracle {
  /** Cube's SQL and parameters for a normalized query. */
  sql(query: NormalizedQuery, extra?: Record<string, unknown>): { sql: string; params: unknown[]; aliasNameToMember: Record<string, string> };
  /** Run it like Cube's gateway would and return `data` rows. */
  load(pool: pg.Pool, query: NormalizedQuery): Promise<Record<string, unknown>[]>;
  /** CubeToMetaTransformer's configs (before the gateway's visibility filter). */
  metaConfig(): { config: Record<string, unknown> }[];
}

const stubNative = {
  newJinjaEngine: () => ({
    loadTemplate: () => {
      throw new Error('Jinja templates are not supported by the test oracle');
    },
    renderTemplate: () => {
      throw new Error('Jinja templates are not supported by the test oracle');
    }
  }),
  loadPythonContext: async () => ({ __type: 'PythonCtx', filters: {}, variables: {}, functions: {} })
};

export async function createCubeOracle(modelDir: string): Promise<CubeOracle> {
  const sc = require('@cubejs-backend/schema-compiler');
  const moment = require('moment-timezone');
  const files: { fileName: string; content: string }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(e.name)) files.push({ fileName: path.relative(modelDir, full), content: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(modelDir);
  const repo = { localPath: () => modelDir, dataSchemaFiles: async () => files };
  const compilers = sc.prepareCompiler(repo, { nativeInstance: stubNative, allowNodeRequire: false });
  await compilers.compiler.compile();
  const { cubeEvaluator, joinGraph, compiler, metaTransformer } = compilers;

  const options = (q: NormalizedQuery, extra: Record<string, unknown> = {}) => ({
    measures: q.measures ?? [],
    dimensions: q.dimensions,
    segments: q.segments ?? [],
    timeDimensions: q.timeDimensions.map((t) => ({ ...t })),
    filters: JSON.parse(JSON.stringify(q.filters)),
    ...(q.order ? { order: q.order } : {}),
    rowLimit: q.rowLimit,
    limit: q.limit,
    offset: q.offset,
    timezone: q.timezone,
    ungrouped: q.ungrouped,
    contextSymbols: { securityContext: {} },
    useNativeSqlPlanner: false,
    allowUngroupedWithoutPrimaryKey: true,
    ...extra
  });

  const sqlFor = (q: NormalizedQuery, extra?: Record<string, unknown>) => {
    const query = new sc.PostgresQuery({ joinGraph, cubeEvaluator, compiler }, options(q, extra));
    const [sql, params] = query.buildSqlAndParams();
    return { sql, params, aliasNameToMember: query.aliasNameToMember as Record<string, string> };
  };

  // PostgresDriver: dates/timestamps → moment.utc(val).format(LOCAL_MS); the rest as pg parses.
  const localMs = (v: string) => moment.utc(v).format(moment.HTML5_FMT.DATETIME_LOCAL_MS);
  const getTypeParser = (oid: number, format?: string) => {
    if (oid === 1082 || oid === 1114 || oid === 1184) return localMs;
    if (oid === 1700) return (v: string) => v;
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  };

  return {
    sql: sqlFor,
    async load(pool, q) {
      const { sql, params, aliasNameToMember } = sqlFor(q);
      const client = await pool.connect();
      let rows: Record<string, unknown>[];
      try {
        await client.query(`SET TIME ZONE 'UTC'`);
        rows = (await client.query({ text: sql, values: params, types: { getTypeParser } })).rows;
      } finally {
        await client.query('RESET TIME ZONE').catch(() => {});
        client.release();
      }
      const timeTypes = new Set<string>();
      for (const td of q.timeDimensions) if (td.granularity) timeTypes.add(`${td.dimension}.${td.granularity}`);
      // transformData: member keys, time values through moment.utc(...).format, plus the
      // deprecated `cube.td` key next to `cube.td.granularity`.
      return rows.map((r) => {
        const out: Record<string, unknown> = {};
        for (const [alias, value] of Object.entries(r)) {
          const member = aliasNameToMember[alias];
          const isTime = timeTypes.has(member) || isTimeMember(member);
          const v = value && isTime ? moment.utc(value).format(moment.HTML5_FMT.DATETIME_LOCAL_MS) : value;
          out[member] = v;
          const parts = member.split('.');
          if (parts.length === 3 && !q.dimensions.includes(parts.slice(0, 2).join('.'))) out[parts.slice(0, 2).join('.')] = v;
        }
        return out;
      });

      function isTimeMember(member: string): boolean {
        try {
          const parts = member.split('.');
          if (cubeEvaluator.isMeasure(parts)) return cubeEvaluator.measureByPath(member).type === 'time';
          return cubeEvaluator.dimensionByPath(member).type === 'time';
        } catch {
          return false;
        }
      }
    },
    metaConfig: () => metaTransformer.cubes
  };
}
