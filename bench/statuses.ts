// `tsx bench/statuses.ts` — how many tiles the cockpit shows red (critical) and amber (warn) on the
// synthetic city, at every level: the city, each district, every town and the first community of
// each town, all built by the dashboard's own code (buildBoard) for the newest month, as a city
// leader sees them. Used to judge a threshold change (issue 18, materiality of fluctuation alarms):
// run it before and after and compare. Per level: the areas looked at, the sum of critical and of
// warn tiles over them, and which indicators (with how many areas) are red or amber.
//
// Data: bench/support.ts (BENCH_SCALE=demo|city|tiny, default demo here; BENCH_DIR=<dir> keeps the
// ingested city for the next run). Results: printed, and written to test-results/bench-statuses.json
// (or BENCH_OUT).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard } from '../dashboard/lib/server/indicators.ts';
import type { Caller, Region } from '../dashboard/lib/server/scope.ts';

process.env.BENCH_SCALE ??= 'demo';
const { cityDatabase } = await import('./support.ts');
const say = (m: string) => console.log(`[bench:statuses] ${m}`);

interface LevelCount {
  areas: number;
  critical: number;
  warn: number;
  neutral: number;
  ok: number;
  no_data: number;
  /** indicator code → [areas critical, areas warn] */
  by: Record<string, [number, number]>;
}

const db = await cityDatabase('statuses', say);
try {
  const engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'bench',
    log: () => {}
  });
  const regions = (await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths ORDER BY path`)).rows as Region[];
  const city = regions.find((r) => r.level === 'city')!;
  const leader: Caller = { kind: 'staff', name: 'bench', role: 'leader', scope: city, privacy: false };
  const firstCommunity = new Map<string, Region>();
  for (const r of regions) if (r.level === 'community' && !firstCommunity.has(r.parent_code!)) firstCommunity.set(r.parent_code!, r);
  const areas = [...regions.filter((r) => r.level === 'city' || r.level === 'district' || r.level === 'town'), ...firstCommunity.values()];
  const levels: Record<string, LevelCount> = {};
  let period: string | null = null;
  for (const area of areas) {
    const board = await buildBoard(engine, db.pool, leader, area, period);
    period ??= board.period;
    const c = (levels[area.level] ??= { areas: 0, critical: 0, warn: 0, neutral: 0, ok: 0, no_data: 0, by: {} });
    c.areas += 1;
    for (const ind of board.indicators) {
      const s = ind.status as keyof LevelCount;
      if (typeof c[s] === 'number') (c[s] as number) += 1;
      const quiet = ind.zScore !== null && Math.abs(ind.zScore) > 3 && !/fluctuation/.test(ind.reason_en ?? '');
      if (process.env.BENCH_VERBOSE && quiet && area.level !== 'community')
        say(
          `  ${area.level} ${area.name} ${ind.code} |z| > 3 without an alarm: z ${ind.zScore?.toFixed(1)}, ${ind.vsMedian?.toFixed(1)} % vs median, value ${ind.value}`
        );
      if (ind.status === 'critical' || ind.status === 'warn') {
        if (process.env.BENCH_VERBOSE) say(`  ${area.level} ${area.name} ${ind.code} ${ind.status}: ${ind.reason_en}`);
        const b = (c.by[ind.code] ??= [0, 0]);
        b[ind.status === 'critical' ? 0 : 1] += 1;
      }
    }
  }
  say(`period ${period}`);
  for (const [level, c] of Object.entries(levels)) {
    const by = Object.entries(c.by)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, [cr, w]]) => `${code} ${cr}✕/${w}▲`)
      .join(', ');
    say(
      `${level.padEnd(9)} areas ${String(c.areas).padStart(3)}  critical ${String(c.critical).padStart(4)}  warn ${String(c.warn).padStart(4)}  — ${by}`
    );
  }
  const out = process.env.BENCH_OUT ?? path.join(ROOT, 'test-results', 'bench-statuses.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ period, levels }, null, 2) + '\n');
  say(`written to ${path.relative(ROOT, out)}`);
} finally {
  await db.stop();
}
