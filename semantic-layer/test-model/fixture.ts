// Test fixture for the embedded engine: tables behind semantic-layer/test-model/model, filled
// with deterministic data (fixed seed) whose timestamps straddle day/week/month/quarter/year
// boundaries in both UTC and Asia/Shanghai, plus rows relative to "now" for relative ranges.
// Also a node:http wrapper so @cubejs-client/core can talk to an engine in tests.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const TEST_MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
export const TEST_SECRET = 'test-secret-for-the-semantic-layer-only';

export const CITY = '330600';
export const REGIONS: { code: string; name: string; level: string; parent: string | null }[] = [
  { code: '330600', name: 'Shaoxing', level: 'city', parent: null },
  { code: '330602', name: 'Yuecheng', level: 'district', parent: '330600' },
  { code: '330603', name: 'Keqiao', level: 'district', parent: '330600' },
  // A code that starts like another district's: must never match it.
  { code: '3306022', name: 'Lookalike', level: 'district', parent: '330600' },
  { code: '330602001', name: 'Fushan', level: 'town', parent: '330602' },
  { code: '330602002', name: 'Beihai', level: 'town', parent: '330602' },
  { code: '330603001', name: 'Keyan', level: 'town', parent: '330603' },
  { code: '3306022001', name: 'Lookalike town', level: 'town', parent: '3306022' },
  { code: '330602001001', name: 'Fushan 1', level: 'community', parent: '330602001' },
  { code: '330602001002', name: 'Fushan 2', level: 'community', parent: '330602001' },
  { code: '330602002001', name: 'Beihai 1', level: 'community', parent: '330602002' },
  { code: '330603001001', name: 'Keyan 1', level: 'community', parent: '330603001' },
  { code: '3306022001001', name: 'Lookalike 1', level: 'community', parent: '3306022001' }
];

export function regionPath(code: string): string {
  const chain: string[] = [];
  let cur: string | null = code;
  while (cur) {
    chain.unshift(cur);
    cur = REGIONS.find((r) => r.code === cur)!.parent;
  }
  return `/${chain.join('/')}/`;
}

export const COMMUNITIES = REGIONS.filter((r) => r.level === 'community').map((r) => r.code);

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Instants right at the edges of periods, in UTC and in Asia/Shanghai (UTC+8). */
const BOUNDARY_INSTANTS = [
  '2023-12-31T15:59:59.999Z', '2023-12-31T16:00:00.000Z', '2023-12-31T23:59:59.000Z', '2024-01-01T00:00:00.000Z',
  '2024-01-31T16:00:00.000Z', '2024-01-31T23:30:00.000Z', '2024-02-29T15:59:59.000Z', '2024-02-29T16:00:00.000Z',
  '2024-03-31T15:59:59.999Z', '2024-03-31T16:00:00.000Z', '2024-04-01T00:00:00.000Z', '2024-06-02T15:59:59.000Z',
  '2024-06-02T16:00:00.000Z', '2024-06-03T00:00:00.000Z', '2024-06-30T16:00:00.000Z', '2024-09-30T16:30:00.000Z',
  '2024-12-31T15:59:59.999Z', '2024-12-31T16:00:00.000Z', '2024-12-31T23:59:59.999Z', '2025-01-01T00:00:00.000Z',
  '2024-03-10T06:59:59.000Z', '2024-03-10T07:00:00.000Z', '2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z'
];

export interface SeedSummary {
  orders: number;
  customers: number;
}

export async function seedTestData(pool: pg.Pool, now: Date = new Date()): Promise<SeedSummary> {
  const r = rng(20240611);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  await pool.query(`
    DROP TABLE IF EXISTS sl_order_items, sl_orders, sl_customers, sl_regions, sl_fund_ledger, sl_audit_notes;
    CREATE TABLE sl_regions (code text PRIMARY KEY, name text NOT NULL, level text NOT NULL, parent_code text, path text NOT NULL);
    CREATE TABLE sl_customers (id integer PRIMARY KEY, name text NOT NULL, segment text, credit numeric(12,2), is_vip boolean,
      created_at timestamptz, region_code text, region_path text);
    CREATE TABLE sl_orders (id integer PRIMARY KEY, customer_id integer, status text, amount numeric(12,2), quantity integer,
      note text, created_at timestamptz, shipped_on date, placed_local timestamp without time zone, region_path text);
    CREATE TABLE sl_order_items (id integer PRIMARY KEY, order_id integer NOT NULL, product text NOT NULL, price numeric(12,2) NOT NULL, region_path text);
    CREATE TABLE sl_fund_ledger (id integer PRIMARY KEY, scheme text NOT NULL, period date NOT NULL, balance numeric(14,2) NOT NULL);
    CREATE TABLE sl_audit_notes (id integer PRIMARY KEY, note text, created_at timestamptz);
  `);
  for (const reg of REGIONS) {
    await pool.query('INSERT INTO sl_regions VALUES ($1, $2, $3, $4, $5)', [reg.code, reg.name, reg.level, reg.parent, regionPath(reg.code)]);
  }
  const customers: { id: number; path: string | null }[] = [];
  const names = ['Zhang Wei', 'Wang Fang', 'Li Na', 'Liu Yang', 'Chen Jie', 'Yang Min', 'Zhao Lei', 'Huang Li', 'Zhou Tao', 'Wu Hao'];
  for (let id = 1; id <= 40; id++) {
    const code = id === 40 ? null : COMMUNITIES[id % COMMUNITIES.length];
    const p = code ? regionPath(code) : null;
    customers.push({ id, path: p });
    await pool.query('INSERT INTO sl_customers VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      id, `${pick(names)} ${id}`, id % 7 === 0 ? null : pick(['retail', 'corporate', 'Retail', 'gov_agency']),
      (Math.round(r() * 1_000_000) / 100).toFixed(2), id % 5 === 0 ? null : r() < 0.3,
      new Date(Date.parse('2023-06-01T00:00:00Z') + Math.floor(r() * 500) * 86_400_000).toISOString(), code, p
    ]);
  }
  const instants: number[] = BOUNDARY_INSTANTS.map((s) => Date.parse(s));
  const from = Date.parse('2023-10-01T00:00:00Z');
  const to = Date.parse('2025-03-01T00:00:00Z');
  for (let i = 0; i < 260; i++) instants.push(from + Math.floor(r() * (to - from)));
  // Rows relative to the real clock, so relative ranges (today, last week, last 12 months…) match data.
  for (let i = 0; i < 120; i++) instants.push(now.getTime() - Math.floor(r() * 500 * 86_400_000));
  for (let i = 0; i < 6; i++) instants.push(now.getTime() - i * 3_600_000);
  let itemId = 1;
  const notes = [null, null, null, 'rush', 'gift_wrap', '50% off', 'Call first', 'rush_50%', 'a\\b', "it's fine"];
  for (const [k, t] of instants.entries()) {
    const id = k + 1;
    const cust = k % 17 === 0 ? null : pick(customers);
    const status = k % 23 === 0 ? null : pick(['completed', 'completed', 'pending', 'cancelled', 'Completed']);
    const amount = k % 29 === 0 ? null : (Math.round(r() * 30000) / 100).toFixed(2);
    const created = new Date(t);
    const shipped = r() < 0.8 ? new Date(t + Math.floor(r() * 5) * 86_400_000).toISOString().slice(0, 10) : null;
    const placedLocal = new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    const rp = cust ? cust.path : k % 3 === 0 ? regionPath(pick(COMMUNITIES)) : null;
    await pool.query('INSERT INTO sl_orders VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      id, cust?.id ?? null, status, amount, 1 + Math.floor(r() * 5), pick(notes), created.toISOString(), shipped, placedLocal, rp
    ]);
    const items = 1 + Math.floor(r() * 3);
    for (let j = 0; j < items; j++) {
      await pool.query('INSERT INTO sl_order_items VALUES ($1, $2, $3, $4, $5)', [itemId++, id, pick(['tea', 'rice', 'silk', 'wine']), (Math.round(r() * 9000) / 100 + 1).toFixed(2), rp]);
    }
  }
  let ledgerId = 1;
  for (const scheme of ['urban_employee', 'urban_rural_resident']) {
    for (let m = 0; m < 18; m++) {
      const period = new Date(Date.UTC(2023, 9 + m, 1)).toISOString().slice(0, 10);
      await pool.query('INSERT INTO sl_fund_ledger VALUES ($1, $2, $3, $4)', [ledgerId++, scheme, period, (1e6 + Math.round(r() * 1e8) / 100).toFixed(2)]);
    }
  }
  for (let i = 1; i <= 5; i++) await pool.query('INSERT INTO sl_audit_notes VALUES ($1, $2, now())', [i, i === 3 ? null : `note ${i}`]);
  return { orders: instants.length, customers: customers.length };
}

/** Serve an engine's handle() on 127.0.0.1 with a random port (what the SvelteKit route does). */
export async function serve(handle: (req: Request) => Promise<Response>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const body = chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
      const response = await handle(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body }));
      const out: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        out[key] = value;
      });
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(e) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  };
}
