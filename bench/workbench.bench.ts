// Workbench benchmark (`npm run bench:workbench` = `tsx bench/workbench.bench.ts`), issue 15 §15:
//   * a transition through the service (transitionAlert: role check, row lock, optimistic version, event,
//     hash-chained audit row) with 10,000+ open alerts — target ≤ 50 ms; printed next to a plain
//     single-row UPDATE of an alert in its own transaction (the floor), as a ratio;
//   * `audit verify` (verifyAuditChain: every hash recomputed outside the database) over 1,000,000
//     events — target ≤ 30 s; printed next to reading the same rows the same way (COPY) without
//     hashing (the floor).
// The alerts are synthetic (BENCH_ALERTS, default 12,000, spread over the rules and 200 communities):
// a transition's cost depends on the alerts table and the audit chain, not on the payments behind the
// alerts. The queue and detail timings (the pages) are bench/workbench-pages.ts, on the ingested city
// (bench/support.ts cityDatabase), run after these; BENCH_ONLY=write|pages runs one half. The database is an embedded PostgreSQL in a scratch directory,
// removed at the end (BENCH_KEEP=1 keeps it). Results: printed, and .cache/bench/workbench-result.json.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { scratchDir, startEmbeddedPostgres } from '../core/db/embedded.ts';
import { migrate } from '../core/db/migrate.ts';
import { createPool, endPool, withDatabase, withTransaction } from '../core/db/pool.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { createUser } from '../core/accounts.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';
import { transitionAlert } from '../core/workflow/alerts.ts';
import { auditHash, verifyAuditChain } from '../core/workflow/audit-chain.ts';
import { to as copyTo } from 'pg-copy-streams';
import { freePort } from './support.ts';
import { benchPages } from './workbench-pages.ts';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 12_000);
const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const TRANSITIONS = Number(process.env.BENCH_TRANSITIONS ?? 300);
const TARGET_TRANSITION_MS = 50;
const TARGET_VERIFY_MS = 30_000;
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function writeSide(): Promise<void> {
  const dir = scratchDir('yinling-bench-workbench-');
  const pg = await startEmbeddedPostgres({ dir, port: await freePort() });
  const admin = createPool(pg.url, { max: 1 });
  await admin.query(`CREATE DATABASE bench_workbench`);
  await endPool(admin);
  const url = withDatabase(pg.url, 'bench_workbench');
  await migrate(url);
  const pool = createPool(url, { max: 6 });
  try {
    await loadCatalogues(pool);
    log(`setting up ${ALERTS.toLocaleString('en-US')} open alerts …`);
    await pool.query(
      `INSERT INTO regions (code, name, level, parent_code) VALUES ('330600000000', '绍兴市', 'city', NULL), ('330681000000', '诸暨市', 'district', '330600000000'),
         ('330681001000', '暨阳街道', 'town', '330681000000')`
    );
    await pool.query(
      `INSERT INTO regions (code, name, level, parent_code)
       SELECT '330681001' || lpad(g::text, 3, '0'), '社区' || g, 'community', '330681001000' FROM generate_series(1, 200) g`
    );
    await pool.query(`REFRESH MATERIALIZED VIEW region_paths`);
    const op = { type: 'operator' as const, name: 'bench' };
    await createUser(pool, op, { username: 'bench-maker', role: 'auditor', regionCode: '330600000000', password: 'bench-password-1' });
    const ids = Array.from({ length: ALERTS }, (_, i) => makeIdNumber('330681', `19${40 + (i % 30)}-0${1 + (i % 9)}-1${i % 9}`, i % 999));
    const rules = [
      'paid_after_death',
      'paid_in_custody',
      'double_receipt',
      'abnormal_amount',
      'shared_account',
      'post_death_activity',
      'no_sign_of_life'
    ];
    await pool.query(
      `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, periods, evidence, region_code, opened_at)
       SELECT ($2::text[])[1 + (i % 7)], id, 'k' || i, 'high', (100 + i % 5000)::numeric(14,2), ARRAY['2026-09-01'::date, '2026-10-01'::date],
              jsonb_build_object('payment_ids', jsonb_build_array('P' || i)), '330681001' || lpad((1 + i % 200)::text, 3, '0'),
              now() - make_interval(days => (i % 60)::int)
         FROM unnest($1::text[]) WITH ORDINALITY AS x(id, i)`,
      [ids, rules]
    );
    await pool.query(`ANALYZE alerts`);
    const open = (await pool.query(`SELECT count(*)::int AS n FROM alerts WHERE active`)).rows[0].n;

    // The first events go through the chaining trigger (its cost per event is printed); the rest of the
    // million are chained here with the same definition (core/workflow/audit-chain.ts auditHash) and
    // written with the trigger set aside, as a restore of a long-lived log would — verify checks them all.
    const VIA_TRIGGER = Math.min(EVENTS, 20_000);
    log(`inserting ${VIA_TRIGGER.toLocaleString('en-US')} audit events through the chaining trigger …`);
    const tIns = Date.now();
    const BATCH = 1000;
    for (let done = 0; done < VIA_TRIGGER; done += BATCH) {
      await pool.query(
        `INSERT INTO audit_log (actor_type, actor, action, subject, detail)
         SELECT 'system', 'bench', 'bench.event', g::text, jsonb_build_object('i', g, 'note', 'synthetic event') FROM generate_series($1::int, $2::int) g`,
        [done + 1, Math.min(VIA_TRIGGER, done + BATCH)]
      );
    }
    const insertMs = Date.now() - tIns;
    log(`  ${(insertMs / 1000).toFixed(1)} s (${((insertMs * 1000) / VIA_TRIGGER).toFixed(1)} µs per event)`);
    log(`chaining ${(EVENTS - VIA_TRIGGER).toLocaleString('en-US')} more events …`);
    const head = (await pool.query(`SELECT max(audit_id)::bigint AS id FROM audit_log`)).rows[0];
    let prev: string = (await pool.query(`SELECT hash FROM audit_log WHERE audit_id = $1`, [head.id])).rows[0].hash;
    let id = Number(head.id);
    const t0us = Date.parse('2026-01-01T00:00:00Z') * 1000;
    await pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain`);
    await pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain_head`);
    for (let done = VIA_TRIGGER; done < EVENTS;) {
      const rows = {
        id: [] as number[],
        at: [] as string[],
        subject: [] as string[],
        detail: [] as string[],
        prev: [] as string[],
        hash: [] as string[]
      };
      for (let k = 0; k < 10_000 && done < EVENTS; k++, done++) {
        id++;
        const atUs = t0us + done * 1000;
        const row = {
          audit_id: String(id),
          at_us: String(atUs),
          actor_type: 'system',
          actor: 'bench',
          action: 'bench.event',
          subject: String(done + 1),
          detail: `{"i": ${done + 1}, "note": "synthetic event"}`, // jsonb's own text form
          ip: null
        };
        const h = auditHash(prev, row);
        rows.id.push(id);
        rows.at.push(new Date(atUs / 1000).toISOString());
        rows.subject.push(row.subject);
        rows.detail.push(row.detail);
        rows.prev.push(prev);
        rows.hash.push(h);
        prev = h;
      }
      await pool.query(
        `INSERT INTO audit_log (audit_id, at, actor_type, actor, action, subject, detail, prev_hash, hash)
         SELECT id, at, 'system', 'bench', 'bench.event', subject, detail::jsonb, prev, hash
           FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(id, at, subject, detail, prev, hash)`,
        [rows.id, rows.at, rows.subject, rows.detail, rows.prev, rows.hash]
      );
    }
    await pool.query(`SELECT setval('audit_log_audit_id_seq', $1)`, [id]);
    await pool.query(`UPDATE audit_chain_head SET last_id = $1, last_hash = $2`, [id, prev]);
    await pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain`);
    await pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain_head`);
    await pool.query(`VACUUM ANALYZE audit_log`);

    // Transitions: acknowledge TRANSITIONS alerts, one at a time, as an auditor would.
    const targets = (
      await pool.query(`SELECT alert_id, version FROM alerts WHERE status = 'new' ORDER BY random() LIMIT $1`, [TRANSITIONS * 2])
    ).rows;
    const floorMs: number[] = [];
    for (const t of targets.slice(TRANSITIONS)) {
      const s = performance.now();
      await withTransaction(pool, (c) =>
        c.query(`UPDATE alerts SET assignee = 'bench-maker', updated_at = now() WHERE alert_id = $1`, [t.alert_id])
      );
      floorMs.push(performance.now() - s);
    }
    const actor = { user: 'bench-maker', role: 'auditor' };
    const ms: number[] = [];
    for (const t of targets.slice(0, TRANSITIONS)) {
      const s = performance.now();
      await transitionAlert(pool, { alertId: Number(t.alert_id), action: 'acknowledge', actor, expectedVersion: t.version });
      ms.push(performance.now() - s);
    }

    // audit verify, and the floor: the same rows read the same way (COPY, one snapshot) without hashing
    const tFloor = Date.now();
    let n = 0;
    {
      const c = await pool.connect();
      try {
        const stream = c.query(
          copyTo(`COPY (SELECT audit_id, (extract(epoch FROM at) * 1000000)::bigint, actor_type, actor, action, subject, detail::text, ip,
                               prev_hash, hash FROM audit_log ORDER BY audit_id) TO STDOUT`)
        );
        for await (const chunk of stream as AsyncIterable<Buffer>)
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
      } finally {
        c.release();
      }
    }
    const readMs = Date.now() - tFloor;
    const v = await verifyAuditChain(pool);
    if (!v.ok) throw new Error(`the chain does not verify: ${v.firstBad?.message}`);

    const result = {
      open_alerts: open,
      transitions: TRANSITIONS,
      transition_p50_ms: +pct(ms, 50).toFixed(1),
      transition_p95_ms: +pct(ms, 95).toFixed(1),
      floor_update_p50_ms: +pct(floorMs, 50).toFixed(1),
      transition_ratio_p50: +(pct(ms, 50) / pct(floorMs, 50)).toFixed(1),
      audit_events: v.events,
      audit_insert_us_per_event: +((insertMs * 1000) / VIA_TRIGGER).toFixed(1),
      verify_ms: v.ms,
      floor_read_ms: readMs,
      verify_ratio: +(v.ms / readMs).toFixed(2),
      rows_read_floor: n
    };
    console.log('');
    console.log(`open alerts                      ${open.toLocaleString('en-US')}`);
    console.log(
      `transition (acknowledge) p50/p95 ${result.transition_p50_ms} / ${result.transition_p95_ms} ms  (target ≤ ${TARGET_TRANSITION_MS} ms p95: ${result.transition_p95_ms <= TARGET_TRANSITION_MS ? 'met' : 'MISSED'}); floor UPDATE p50 ${result.floor_update_p50_ms} ms, ratio ${result.transition_ratio_p50}×`
    );
    console.log(
      `audit verify                     ${v.events.toLocaleString('en-US')} events in ${(v.ms / 1000).toFixed(1)} s  (target ≤ ${TARGET_VERIFY_MS / 1000} s: ${v.ms <= TARGET_VERIFY_MS ? 'met' : 'MISSED'}); floor read ${(readMs / 1000).toFixed(1)} s, ratio ${result.verify_ratio}×`
    );
    console.log(`audit insert (chaining trigger)  ${result.audit_insert_us_per_event} µs per event`);
    const out = path.join(ROOT, '.cache', 'bench', 'workbench-result.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2));
    log(`written ${path.relative(ROOT, out)}`);
  } finally {
    await endPool(pool);
    await pg.stop();
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ONLY = process.env.BENCH_ONLY;

async function main(): Promise<void> {
  if (ONLY !== 'pages') await writeSide();
  if (ONLY !== 'write') await benchPages();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
