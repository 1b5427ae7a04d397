// Ingestion of the department feeds (docs/feeds.md): every ready file of the inbox, feed by feed,
// each file in its own transaction (load.ts), with counts per file and per run. `runIngestJob` is the
// scheduled/CLI entry: the same thing as a recorded job run under the `ingest` advisory lock.
//
// Feeds are processed in FEED_ORDER (regions and persons first — only for tidiness: rows referring to a
// person not yet known are loaded anyway and resolve by join when the person arrives), up to
// `concurrency` feeds at a time on separate connections (files of one feed always one after the other,
// in arrival order, so "the later delivery wins" holds).
import os from 'node:os';
import type { Pool } from '../../core/db/pool.ts';
import { runJob, type JobResult, type RunJobOptions } from '../runner.ts';
import { FEED_BY_NAME, FEED_ORDER, PERSON_REF_FEEDS, type CatalogueName, CATALOGUES } from './feeds.ts';
import { listInbox, type InboxFile } from './inbox.ts';
import { deferIndexes, estimatedRows, isEmpty, restoreIndexes, wantsBulk, type CountAdjustment } from './indexes.ts';
import { canCopyDirect, hypertableTimeColumn, loadFile, type FileResult, type IngestHooks, type KeyedTable, type LoadEnv } from './load.ts';
import { feedSql } from './merge-sql.ts';
import type { Catalogues } from './rows.ts';

export type { FileResult, IngestHooks } from './load.ts';
export { FEEDS, FEED_BY_NAME, FEED_ORDER } from './feeds.ts';

export interface IngestOptions {
  /** The inbox folder: <inbox>/<feed>/*.csv. */
  inbox: string;
  log?: (message: string) => void;
  /** Feed processing order (default FEED_ORDER); feeds not listed follow in FEED_ORDER, unknown folders last. */
  order?: readonly string[];
  /** Feeds loaded at the same time, each on its own connection (default: 2, at most the CPU count). */
  concurrency?: number;
  /** Drop and rebuild a feed's secondary indexes around a big load: 'auto' (default), 'always', 'never'. */
  bulk?: 'auto' | 'always' | 'never';
  /** 'auto' bulk mode needs at least this many incoming rows (estimated from file sizes); default 200 000. */
  bulkMinRows?: number;
  /** Count rows whose person is not in persons (default: when something was loaded). */
  countUnresolved?: boolean;
  /** The job run these files belong to (ingest_files.run_id). */
  runId?: number | null;
  /** Always merge through a staging table, never COPY straight into the table (tests). */
  staging?: boolean;
  /** Leave files modified less than this long ago for a later run (the scheduler: YINLING_INBOX_SETTLE_SECONDS). */
  settleMs?: number;
  /**
   * Load these plain tables (table → the column to treat as the time column, or null) the way hypertables are
   * loaded: direct COPY checked afterwards when there is a time column and no unique index on the key alone,
   * keyed merge of staged files (tests; single-column keys).
   */
  keyedMerge?: Record<string, string | null>;
  hooks?: IngestHooks;
  /** Called after every file (counts accumulate into the job run as files finish). */
  onFile?: (result: FileResult) => void;
  /** Called when a bulk load's duplicate resolution moved rows of finished files from loaded to replaced. */
  onAdjust?: (delta: { replaced: number; unchanged: number }) => void;
}

export interface Counts {
  read: number;
  loaded: number;
  replaced: number;
  quarantined: number;
  unchanged: number;
}

export interface IngestSummary {
  files: FileResult[];
  totals: Counts & {
    filesLoaded: number;
    filesRejected: number;
    filesDuplicate: number;
    filesDeferred: number;
    filesUnsettled: number;
    symlinks: number;
  };
  byFeed: Record<string, Counts & { files: number }>;
  /** Rows (all feeds but persons) whose id_number is not in persons; null when not counted. */
  unresolvedPersonRefs: number | null;
  unresolvedByFeed: Record<string, number>;
  indexesRebuilt: number;
  durationMs: number;
}

async function readCatalogues(pool: Pool): Promise<Catalogues> {
  const out = {} as Record<CatalogueName, string[]>;
  for (const [name, c] of Object.entries(CATALOGUES) as [CatalogueName, (typeof CATALOGUES)[CatalogueName]][]) {
    const r = await pool.query(`SELECT ${c.column} AS v FROM ${c.table} ORDER BY 1`);
    out[name] = r.rows.map((x) => x.v as string);
  }
  return out;
}

function emptyCounts(): Counts {
  return { read: 0, loaded: 0, replaced: 0, quarantined: 0, unchanged: 0 };
}

export async function ingestInbox(pool: Pool, opts: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const summary: IngestSummary = {
    files: [],
    totals: { ...emptyCounts(), filesLoaded: 0, filesRejected: 0, filesDuplicate: 0, filesDeferred: 0, filesUnsettled: 0, symlinks: 0 },
    byFeed: {},
    unresolvedPersonRefs: null,
    unresolvedByFeed: {},
    indexesRebuilt: 0,
    durationMs: 0
  };
  const adjust = (list: CountAdjustment[]) => {
    for (const a of list) {
      const f = summary.files.find((x) => x.fileId === a.fileId);
      const targets = f ? [summary.totals, summary.byFeed[a.feed], f] : [];
      for (const c of targets) {
        c.loaded -= a.replaced;
        c.replaced += a.replaced;
        c.unchanged += a.unchanged;
      }
      if (f) opts.onAdjust?.({ replaced: a.replaced, unchanged: a.unchanged });
    }
  };
  // Indexes an interrupted bulk load left dropped come back first.
  const leftover = await restoreIndexes(pool, null, log);
  summary.indexesRebuilt += leftover.rebuilt;
  const listing = await listInbox(opts.inbox, {
    settleMs: opts.settleMs,
    onSymlink: (p) => {
      summary.totals.symlinks++;
      log(`ingest: ${p} is a symbolic link and is not read — copy the file into the inbox instead`);
    },
    onUnsettled: (f) => {
      summary.totals.filesUnsettled++;
      log(`ingest: ${f.feed}/${f.name}: modified in the last ${Math.round((opts.settleMs ?? 0) / 1000)} s — left for the next run`);
    }
  });
  if (listing.size) {
    const catalogues = await readCatalogues(pool);
    const direct = new Map<string, boolean>();
    const keyed = new Map<string, KeyedTable | null>();
    for (const folder of listing.keys()) {
      const feed = FEED_BY_NAME.get(folder);
      if (!feed) continue;
      direct.set(feed.table, await canCopyDirect(pool, feed));
      const timeColumn = await hypertableTimeColumn(pool, feed.table);
      const asHyper = opts.keyedMerge && feed.table in opts.keyedMerge && feed.key.length === 1 ? opts.keyedMerge[feed.table] : undefined;
      keyed.set(
        feed.table,
        timeColumn ? { timeColumn, hypertable: true } : asHyper !== undefined ? { timeColumn: asHyper, hypertable: false } : null
      );
    }
    const env: LoadEnv = {
      pool,
      inbox: opts.inbox,
      catalogues,
      runId: opts.runId ?? null,
      log,
      direct,
      keyed,
      hooks: opts.hooks,
      staging: opts.staging
    };
    const order = [...(opts.order ?? []), ...FEED_ORDER];
    const folders = [...listing.keys()].sort((a, b) => {
      const ia = order.indexOf(a),
        ib = order.indexOf(b);
      return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib) || (a < b ? -1 : a > b ? 1 : 0);
    });
    const record = (r: FileResult) => {
      summary.files.push(r);
      const t = summary.totals;
      const f = (summary.byFeed[r.feed] ??= { ...emptyCounts(), files: 0 });
      for (const c of [t, f]) {
        c.read += r.read;
        c.loaded += r.loaded;
        c.replaced += r.replaced;
        c.quarantined += r.quarantined;
        c.unchanged += r.unchanged;
      }
      f.files++;
      if (r.status === 'loaded') t.filesLoaded++;
      else if (r.status === 'rejected') t.filesRejected++;
      else if (r.status === 'deferred') t.filesDeferred++;
      else t.filesDuplicate++;
      opts.onFile?.(r);
    };
    let failure: unknown = null;
    const processFolder = async (folder: string, files: InboxFile[]) => {
      const feed = FEED_BY_NAME.get(folder) ?? null;
      let deferred: string[] = [];
      if (feed && opts.bulk !== 'never') {
        const pending = files.reduce((n, f) => n + f.size, 0);
        if (opts.bulk === 'always' || wantsBulk(pending, await estimatedRows(pool, feed.table), { minRows: opts.bulkMinRows ?? 200_000 })) {
          // An empty table loses its key index too: every file is COPYed straight in, keys settled at the end.
          const append = !opts.staging && env.direct.get(feed.table) === true && (await isEmpty(pool, feed.table));
          deferred = await deferIndexes(pool, feed, { withKey: append });
          if (deferred.length) {
            log(
              `ingest: ${feed.feed}: bulk load of ~${Math.round(pending / 1e6)} MB${append ? ' into an empty table' : ''}; indexes ${deferred.join(', ')} are rebuilt afterwards`
            );
          }
        }
      }
      try {
        for (const file of files) {
          if (failure) return;
          const r = await loadFile(env, feed, file);
          if (r) record(r);
        }
      } finally {
        if (deferred.length) {
          try {
            const r = await restoreIndexes(pool, feed!.table, log);
            summary.indexesRebuilt += r.rebuilt;
            adjust(r.adjustments);
          } catch (e) {
            log(`ingest: could not rebuild the indexes of ${feed!.table} (${(e as Error).message}); the next run will`);
          }
        }
      }
    };
    let next = 0;
    const lanes = Math.max(1, Math.min(opts.concurrency ?? Math.min(2, os.availableParallelism()), folders.length));
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (!failure && next < folders.length) {
          const folder = folders[next++];
          try {
            await processFolder(folder, listing.get(folder)!);
          } catch (e) {
            failure ??= e;
          }
        }
      })
    );
    if (failure) throw failure;
  }
  const loadedSomething = summary.totals.filesLoaded > 0;
  if (opts.countUnresolved ?? loadedSomething) {
    const t0 = Date.now();
    let total = 0;
    for (const feed of PERSON_REF_FEEDS) {
      const n = Number((await pool.query(feedSql(feed).unresolved!)).rows[0].n);
      summary.unresolvedByFeed[feed.feed] = n;
      total += n;
    }
    summary.unresolvedPersonRefs = total;
    log(`ingest: counted rows with unknown person in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  summary.durationMs = Date.now() - started;
  const t = summary.totals;
  if (summary.files.length) {
    log(
      `ingest: ${summary.files.length} file(s) — ${t.filesLoaded} loaded, ${t.filesRejected} rejected, ${t.filesDuplicate} already known` +
        `${t.filesDeferred ? `, ${t.filesDeferred} changed while loading (left for the next run)` : ''}; ` +
        `rows read ${t.read}, loaded ${t.loaded} (unchanged ${t.unchanged}), replaced ${t.replaced}, quarantined ${t.quarantined}` +
        (summary.unresolvedPersonRefs !== null ? `; rows with unknown person ${summary.unresolvedPersonRefs}` : '') +
        ` in ${(summary.durationMs / 1000).toFixed(1)} s`
    );
  }
  return summary;
}

export interface IngestJobOptions extends Omit<IngestOptions, 'runId' | 'onFile' | 'onAdjust' | 'log'> {
  trigger?: RunJobOptions['trigger'];
  log?: (message: string) => void;
}

/** ingestInbox as a recorded job run (`job_runs`, job 'ingest'), never overlapping another ingest run. */
export async function runIngestJob(pool: Pool, opts: IngestJobOptions): Promise<JobResult & { summary: IngestSummary | null }> {
  let summary: IngestSummary | null = null;
  const result = await runJob(
    pool,
    'ingest',
    async (ctx) => {
      summary = await ingestInbox(pool, {
        ...opts,
        log: ctx.log,
        runId: ctx.runId,
        onAdjust: (d) => ctx.count({ loaded: -d.replaced, replaced: d.replaced, extra: { unchanged: d.unchanged } }),
        onFile: (r) =>
          ctx.count({
            read: r.read,
            loaded: r.loaded,
            replaced: r.replaced,
            quarantined: r.quarantined,
            extra: {
              unchanged: r.unchanged,
              files: 1,
              files_loaded: r.status === 'loaded' ? 1 : 0,
              files_rejected: r.status === 'rejected' ? 1 : 0,
              files_duplicate: r.status === 'duplicate' ? 1 : 0,
              files_deferred: r.status === 'deferred' ? 1 : 0
            }
          })
      });
      const s = summary as IngestSummary;
      ctx.count({
        extra: { duration_ms: s.durationMs, ...(s.unresolvedPersonRefs !== null ? { unresolved_person_refs: s.unresolvedPersonRefs } : {}) }
      });
    },
    { trigger: opts.trigger, log: opts.log }
  );
  return { ...result, summary };
}
