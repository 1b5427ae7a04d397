// `npm run bench:ingest` — ingestion throughput at city scale against the targets of issue 2:
//  * payments + evidence ingested at ≥ 0.5× the rows/s of a raw COPY of the same rows (already parsed:
//    the canonical COPY text of the valid rows) into unindexed tables, measured in the same run, on the
//    same server, with the same parallelism (one connection per feed);
//  * the whole city inbox ingested in under 5 minutes;
//  * peak RSS of the node process under 500 MB.
// The city is generated once into .cache/bench/city-seed1 (seeds/generator) and reused; the inbox given to
// the loader is made of hard links, so the cache is never moved or copied. Without the generator the bench
// falls back to a synthetic payments/evidence inbox of the same size.
//
// Environment: BENCH_SCALE=city|demo|tiny (default city), BENCH_SEED (1), BENCH_KEEP=1 keeps the scratch dir,
// BENCH_ONLY=ratio|city runs one of the two parts, BENCH_VERBOSE=1 prints the loader's log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { ROOT } from '../core/config.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { scratchDir, startEmbeddedPostgres } from '../core/db/embedded.ts';
import { migrate } from '../core/db/migrate.ts';
import { createPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';
import { CsvScanner } from '../jobs/ingest/csv.ts';
import { encodingCheck, probeFile, utf8Chunks } from '../jobs/ingest/encoding.ts';
import { FEED_BY_NAME, type FeedDef } from '../jobs/ingest/feeds.ts';
import { runIngestJob, type IngestSummary } from '../jobs/ingest/index.ts';
import { feedSql } from '../jobs/ingest/merge-sql.ts';
import { FileRejection, RowProcessor, type Catalogues } from '../jobs/ingest/rows.ts';
import { freePort } from './support.ts';

const SCALE = (process.env.BENCH_SCALE ?? 'city') as 'city' | 'demo' | 'tiny';
const SEED = Number(process.env.BENCH_SEED ?? 1);
const CACHE = path.join(ROOT, '.cache', 'bench', `${SCALE}-seed${SEED}`);
const RATIO_FEEDS = ['payments', 'evidence'];
const ONLY = process.env.BENCH_ONLY ?? '';

const secs = (ms: number) => (ms / 1000).toFixed(1) + ' s';
const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US') + ' rows/s';
const mb = (kb: number) => Math.round(kb / 1024) + ' MB';
const say = (m: string) => console.log(m);

/** The generated city (cached), or a synthetic payments/evidence inbox when the generator is not available. */
let generatedHere = false;
async function cityInbox(): Promise<{ dir: string; synthetic: boolean }> {
  if (fs.existsSync(path.join(CACHE, '.ground-truth.json'))) return { dir: CACHE, synthetic: false };
  let generator: typeof import('../seeds/generator/index.ts') | null = null;
  try {
    generator = await import('../seeds/generator/index.ts');
  } catch (e) {
    say(`seeds/generator is not usable (${(e as Error).message}); using a synthetic inbox`);
  }
  if (generator) {
    say(`generating the ${SCALE} city (seed ${SEED}) once into ${path.relative(ROOT, CACHE)} …`);
    const t = Date.now();
    await generator.generateCity({ scale: SCALE, seed: SEED, outDir: CACHE, clean: true });
    generatedHere = true;
    say(`  generated in ${secs(Date.now() - t)}`);
    return { dir: CACHE, synthetic: false };
  }
  const dir = path.join(ROOT, '.cache', 'bench', `synthetic-${SCALE}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) writeSynthetic(dir, SCALE === 'city' ? 330_000 : SCALE === 'demo' ? 20_000 : 600);
  return { dir, synthetic: true };
}

/** Synthetic inbox: 36 months of payments and ~100 evidence rows per person, one file per year/quarter. */
function writeSynthetic(dir: string, people: number): void {
  say(`writing a synthetic inbox for ${people} people into ${path.relative(ROOT, dir)} …`);
  fs.rmSync(dir, { recursive: true, force: true });
  const ids = Array.from({ length: people }, (_, i) =>
    makeIdNumber(
      String(330602 + (i % 9)),
      `19${40 + (i % 30)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
      i % 1000
    )
  );
  const write = (file: string, header: string, rows: (emit: (line: string) => void) => void) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w');
    let buf = header + '\n';
    rows((line) => {
      buf += line + '\n';
      if (buf.length > 1 << 20) {
        fs.writeSync(fd, buf);
        buf = '';
      }
    });
    fs.writeSync(fd, buf);
    fs.closeSync(fd);
  };
  for (let year = 0; year < 3; year++) {
    write(
      path.join(dir, 'payments', `payments-${2024 + year}.csv`),
      'payment_id,id_number,scheme_code,period,amount,paid_at,status,account_no',
      (emit) => {
        for (let m = 1; m <= 12; m++) {
          const period = `${2024 + year}-${String(m).padStart(2, '0')}`;
          for (let i = 0; i < people; i++)
            emit(
              `PM${period.replace('-', '')}${String(i).padStart(9, '0')},${ids[i]},ENT,${period},${2000 + (i % 3000)}.${String(i % 100).padStart(2, '0')},${period}-18T09:30:00+08:00,paid,62220${String(i).padStart(14, '0')}`
            );
        }
      }
    );
  }
  for (let q = 0; q < 12; q++) {
    write(path.join(dir, 'evidence', `evidence-q${q}.csv`), 'evidence_id,id_number,source,kind,occurred_at,region,detail', (emit) => {
      for (let i = 0; i < people; i++)
        for (let k = 0; k < 8; k++) {
          const day = 1 + ((i + k * 3) % 28),
            month = 1 + (q % 4) * 3 + (k % 3);
          emit(
            `EV${q}${String(i).padStart(9, '0')}${k},${ids[i]},TRANSIT_CARD,bus_swipe,${2024 + Math.floor(q / 4)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')} 08:${String(k * 7).padStart(2, '0')}:00,330602001001,${k}路`
          );
        }
    });
  }
  fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
}

/** An inbox of hard links to the cached files (the loader moves files; the cache must stay). */
function linkInbox(src: string, dest: string, feeds: string[] | null): number {
  let files = 0;
  fs.rmSync(dest, { recursive: true, force: true });
  for (const feed of fs.readdirSync(src)) {
    if (feed.startsWith('.') || (feeds && !feeds.includes(feed))) continue;
    const from = path.join(src, feed);
    if (!fs.statSync(from).isDirectory()) continue;
    fs.mkdirSync(path.join(dest, feed), { recursive: true });
    for (const f of fs.readdirSync(from).sort()) {
      const p = path.join(from, f);
      if (!fs.statSync(p).isFile()) continue;
      try {
        fs.linkSync(p, path.join(dest, feed, f));
      } catch {
        fs.copyFileSync(p, path.join(dest, feed, f));
      }
      const st = fs.statSync(p);
      fs.utimesSync(path.join(dest, feed, f), st.atime, st.mtime);
      files++;
    }
  }
  return files;
}

async function catalogues(pool: Pool): Promise<Catalogues> {
  const q = async (sql: string) => (await pool.query(sql)).rows.map((r) => r.v as string);
  return {
    schemes: await q(`SELECT scheme_code v FROM ref_schemes`),
    subsidy_projects: await q(`SELECT project_code v FROM ref_subsidy_projects`),
    evidence_kinds: await q(`SELECT kind v FROM ref_evidence_kinds`),
    evidence_sources: await q(`SELECT source_code v FROM ref_evidence_sources`)
  };
}

/** The valid rows of a feed's files as canonical COPY text (what "already parsed" means). Not timed. */
async function canonicalRows(feed: FeedDef, dir: string, cats: Catalogues, out: string): Promise<number> {
  const fd = fs.openSync(out, 'w');
  let rows = 0;
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.toLowerCase().endsWith('.csv'))
    .sort()) {
    const file = path.join(dir, f);
    const probe = await probeFile(file);
    if (probe.notText) continue;
    let proc: RowProcessor | null = null;
    const sink = { add() {} };
    try {
      const scanner = new CsvScanner((rec) => {
        if (proc) return proc.process(rec);
        const names: string[] = [];
        for (let k = 0; k < rec.count; k++) names.push(rec.buf.toString('utf8', rec.starts[k], rec.ends[k]));
        proc = new RowProcessor(feed, names, cats, 0, sink, { encodingProblem: '' });
      }, encodingCheck(probe.encoding));
      for await (const chunk of utf8Chunks(file, probe.encoding)) {
        scanner.push(chunk);
        for (const b of (proc as RowProcessor | null)?.drain() ?? []) fs.writeSync(fd, b);
      }
      scanner.end();
      for (const b of (proc as RowProcessor | null)?.drain() ?? []) fs.writeSync(fd, b);
      rows += (proc as RowProcessor | null)?.counts.valid ?? 0;
    } catch (e) {
      if (!(e instanceof FileRejection)) throw e; // unreadable file: not part of the rows
    }
  }
  fs.closeSync(fd);
  return rows;
}

/** Raw COPY of canonical rows into an unindexed copy of each table; feeds in parallel, like the loader. */
async function rawCopy(
  pool: Pool,
  files: { feed: FeedDef; file: string }[],
  parallel: boolean,
  cpu: () => { pg: number; node: number } | null
): Promise<{ ms: number; cpu: string }> {
  for (const { feed } of files)
    await pool.query(`DROP TABLE IF EXISTS raw_${feed.table}; CREATE TABLE raw_${feed.table} (LIKE ${feed.table} INCLUDING DEFAULTS)`);
  const one = async ({ feed, file }: { feed: FeedDef; file: string }) => {
    const client = await pool.connect();
    try {
      await client.query(`SET TIME ZONE 'Asia/Shanghai'`);
      await pipeline(
        fs.createReadStream(file, { highWaterMark: 1 << 20 }),
        client.query(copyFrom(`COPY raw_${feed.table} (${feedSql(feed).copyColumns}) FROM STDIN`))
      );
    } finally {
      client.release();
    }
  };
  await pool.query('CHECKPOINT');
  const c0 = cpu();
  const t = Date.now();
  if (parallel) await Promise.all(files.map(one));
  else for (const f of files) await one(f);
  const ms = Date.now() - t;
  const used = cpuDelta(c0, cpu());
  for (const { feed } of files) await pool.query(`DROP TABLE raw_${feed.table}`);
  await pool.query('CHECKPOINT');
  return { ms, cpu: used };
}

/**
 * CPU seconds used so far by the PostgreSQL cluster (postmaster, its live children, and the exited ones it
 * reaped) and by this node process — Linux /proc; null elsewhere. The machine may be shared: CPU time says
 * how much work a phase took whatever else was running, wall time what it felt like.
 */
function cpuSeconds(pgDataDir: string): { pg: number; node: number } | null {
  try {
    const pm = Number(fs.readFileSync(path.join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const stat = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const own = stat(pm);
    let ticks = +own[11] + +own[12] + +own[13] + +own[14];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = stat(Number(d));
        if (Number(st[1]) === pm) ticks += +st[11] + +st[12];
      } catch {
        /* gone */
      }
    }
    const u = process.cpuUsage();
    return { pg: ticks / 100, node: (u.user + u.system) / 1e6 };
  } catch {
    return null;
  }
}

function cpuDelta(a: { pg: number; node: number } | null, b: { pg: number; node: number } | null): string {
  if (!a || !b) return '';
  return `  [CPU: postgres ${(b.pg - a.pg).toFixed(1)} s, node ${(b.node - a.node).toFixed(1)} s]`;
}

const loadAvg = () => {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return '?';
  }
};

/** Time from the last loaded file to the last index rebuild (the tail where only rebuilds ran). */
function tailRebuildMs(events: { at: number; kind: 'file' | 'rebuild' }[]): number {
  const lastFile = Math.max(0, ...events.filter((e) => e.kind === 'file').map((e) => e.at));
  const lastRebuild = Math.max(0, ...events.filter((e) => e.kind === 'rebuild').map((e) => e.at));
  return lastRebuild > lastFile ? lastRebuild - lastFile : 0;
}

async function freshDb(adminUrl: string, name: string): Promise<Pool> {
  const admin = createPool(adminUrl, { max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  await migrate(url);
  const pool = createPool(url, { max: 8 });
  await loadCatalogues(pool);
  return pool;
}

async function main(): Promise<void> {
  const { dir: city, synthetic } = await cityInbox();
  const work = scratchDir('yinling-bench-');
  say(`scratch: ${work}`);
  const server = await startEmbeddedPostgres({ dir: path.join(work, 'db'), port: await freePort() });
  const cpu = () => cpuSeconds(path.join(work, 'db', 'pg'));
  const results: string[] = [];
  try {
    // ---------------------------------------------------------------- payments + evidence vs raw COPY
    let pool: Pool;
    if (ONLY !== 'city') {
      pool = await freshDb(server.url, 'bench_ratio');
      const cats = await catalogues(pool);
      const feeds = RATIO_FEEDS.filter((f) => fs.existsSync(path.join(city, f)));
      const canon: { feed: FeedDef; file: string; rows: number }[] = [];
      for (const f of feeds) {
        const feed = FEED_BY_NAME.get(f)!;
        const file = path.join(work, `${f}.copy`);
        canon.push({ feed, file, rows: await canonicalRows(feed, path.join(city, f), cats, file) });
      }
      const rows = canon.reduce((n, c) => n + c.rows, 0);
      const walLevel = (await pool.query('SHOW wal_level')).rows[0].wal_level as string;
      say(`rows (valid) in ${feeds.join(' + ')}: ${rows.toLocaleString('en-US')}; server wal_level=${walLevel}`);
      const rawParallel = await rawCopy(pool, canon, true, cpu);
      const rawSerial = await rawCopy(pool, canon, false, cpu);
      const rawParallelMs = rawParallel.ms,
        rawSerialMs = rawSerial.ms;
      for (const c of canon) fs.rmSync(c.file);
      const inboxA = path.join(work, 'inbox-ratio');
      linkInbox(city, inboxA, feeds);
      const rebuilds: number[] = [];
      await pool.query('CHECKPOINT');
      const cA = cpu();
      const tA = Date.now();
      const logTimes: { at: number; kind: 'file' | 'rebuild' }[] = [];
      const jobA = await runIngestJob(pool, {
        inbox: inboxA,
        log: (m) => {
          const r = /rebuilt index .* in ([\d.]+) s/.exec(m);
          if (r) {
            rebuilds.push(Number(r[1]) * 1000);
            logTimes.push({ at: Date.now(), kind: 'rebuild' });
          }
          if (/: read \d+, loaded/.test(m)) logTimes.push({ at: Date.now(), kind: 'file' });
          if (process.env.BENCH_VERBOSE) say('  ' + m);
        }
      });
      const ingestMs = Date.now() - tA;
      const ingestCpu = cpuDelta(cA, cpu());
      if (jobA.status !== 'ok') throw new Error(`ingest failed: ${jobA.error}`);
      const sA = jobA.summary!;
      const loadedA = sA.totals.loaded + sA.totals.replaced;
      const rebuildMs = rebuilds.reduce((a, b) => a + b, 0);
      // Rebuilds that ran after the last file of the ratio feeds was loaded are pure rebuild time.
      const loadPhaseRebuildMs = tailRebuildMs(logTimes);
      await pool.end();

      results.push(
        `payments + evidence: ${loadedA.toLocaleString('en-US')} rows loaded (${sA.totals.read.toLocaleString('en-US')} read, ${sA.totals.quarantined} quarantined); server wal_level=${walLevel}`,
        `  raw COPY, unindexed, 2 connections : ${secs(rawParallelMs)}  ${rate(rows, rawParallelMs)}${rawParallel.cpu}`,
        `  raw COPY, unindexed, 1 connection  : ${secs(rawSerialMs)}  ${rate(rows, rawSerialMs)}${rawSerial.cpu}`,
        `  ingest (read, hash, detect, parse, validate, COPY, merge, quarantine, indexes): ${secs(ingestMs)}  ${rate(loadedA, ingestMs)}${ingestCpu}`,
        `    of which the tail after the last file, when only index builds ran: ${secs(loadPhaseRebuildMs)} (${rebuilds.length} indexes built, ${secs(rebuildMs)} summed over concurrent builds)`,
        `  ratio ingest / raw COPY (2 connections): ${(rawParallelMs / ingestMs).toFixed(2)}   (target ≥ 0.5)`,
        `  ratio ingest / raw COPY (1 connection) : ${(rawSerialMs / ingestMs).toFixed(2)}`,
        `  ratio excluding the index rebuilds (load phase, 2 connections): ${(rawParallelMs / Math.max(1, ingestMs - loadPhaseRebuildMs)).toFixed(2)}`,
        `  (load average at the end: ${loadAvg()} on ${os.availableParallelism()} CPUs; node peak RSS so far ${mb(process.resourceUsage().maxRSS)}${generatedHere ? ', with the city generated in this process' : ''})`
      );
      say(results.join('\n'));
    }
    if (ONLY === 'ratio') return;

    // ---------------------------------------------------------------- the whole inbox
    pool = await freshDb(server.url, 'bench_city');
    const inboxB = path.join(work, 'inbox-city');
    const nFiles = linkInbox(city, inboxB, null);
    await pool.query('CHECKPOINT');
    const cB = cpu();
    const tB = Date.now();
    const jobB = await runIngestJob(pool, {
      inbox: inboxB,
      log: (m) => {
        if (process.env.BENCH_VERBOSE) say('  ' + m);
      }
    });
    const cityMs = Date.now() - tB;
    const cityCpu = cpuDelta(cB, cpu());
    if (jobB.status !== 'ok') throw new Error(`ingest failed: ${jobB.error}`);
    const sB: IngestSummary = jobB.summary!;
    const lines = [
      `whole ${synthetic ? 'synthetic ' : ''}${SCALE} inbox (${nFiles} files): ${secs(cityMs)}   (target < 300 s)${cityCpu}  (load average ${loadAvg()})`,
      `  rows read ${sB.totals.read.toLocaleString('en-US')}, loaded ${sB.totals.loaded.toLocaleString('en-US')}, replaced ${sB.totals.replaced}, quarantined ${sB.totals.quarantined}; ` +
        `files loaded ${sB.totals.filesLoaded}, rejected ${sB.totals.filesRejected}, duplicate ${sB.totals.filesDuplicate}; unresolved person refs ${sB.unresolvedPersonRefs}`,
      ...Object.entries(sB.byFeed).map(
        ([f, c]) =>
          `    ${f.padEnd(15)} read ${String(c.read).padStart(11)}  loaded ${String(c.loaded).padStart(11)}  replaced ${String(c.replaced).padStart(4)}  quarantined ${String(c.quarantined).padStart(4)}`
      ),
      `node peak RSS (process.resourceUsage().maxRSS, whole bench): ${mb(process.resourceUsage().maxRSS)}   (target < 500 MB)` +
        (generatedHere ? '  — includes generating the city in this process; run again for the ingestion alone' : '')
    ];
    results.push(...lines);
    say(lines.join('\n'));
    await pool.end();
  } finally {
    await server.stop();
    if (!process.env.BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
  }
  say('\n' + results.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
