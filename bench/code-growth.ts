// `tsx bench/code-growth.ts START.heapsnapshot END.heapsnapshot [--maps DIR] [--top N]` — what the
// compiled code that grew between two heap snapshots of the wall screen belongs to.
//
// bench:screen (BENCH_KEEP_SNAPSHOTS=DIR) keeps its start and end snapshots. Their growth is V8's
// compiled code, not our objects; this says whose code it is: every optimized function (a closure
// whose code is not its bytecode's baseline code) with the size of its machine code, relocation and
// deoptimisation data, grouped by script and — with --maps, a build's client/_app/immutable dir
// built with `vite build --sourcemap hidden` — by the original module (echarts/lib/…, zrender/lib/…,
// dashboard/…). Chunks without a map of the same name are shown by their URL.
import fs from 'node:fs';
import path from 'node:path';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]]; location_fields: string[] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations: number[];
}
interface Group {
  bytes: number;
  functions: number;
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const mapsDir = opt('--maps');
const top = Number(opt('--top') ?? 30);
if (args.length !== 2) {
  console.error('usage: tsx bench/code-growth.ts START.heapsnapshot END.heapsnapshot [--maps DIR] [--top N]');
  process.exit(2);
}

const maps = new Map<string, TraceMap | null>();
function mapFor(url: string): TraceMap | null {
  if (!mapsDir) return null;
  const rel = url.replace(/^.*\/_app\/immutable\//, '');
  if (!maps.has(rel)) {
    const f = path.join(mapsDir, rel + '.map');
    maps.set(rel, fs.existsSync(f) ? new TraceMap(fs.readFileSync(f, 'utf8')) : null);
  }
  return maps.get(rel)!;
}

/** Optimized code per "module<TAB>function", from one snapshot. */
function optimizedCode(file: string): Map<string, Group> {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const m = s.snapshot.meta;
  const NF = m.node_fields.length;
  const EF = m.edge_fields.length;
  const [fType, fName, fSize, fEdges] = ['type', 'name', 'self_size', 'edge_count'].map((k) => m.node_fields.indexOf(k));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((k) => m.edge_fields.indexOf(k));
  const nodeTypes = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const count = s.nodes.length / NF;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * NF + fEdges] * EF;
    firstEdge[i + 1] = e;
  }
  const name = (i: number) => s.strings[s.nodes[i * NF + fName]];
  const size = (i: number) => s.nodes[i * NF + fSize];
  const edges = function* (i: number): Generator<[to: number, name: string]> {
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) {
      const t = edgeTypes[s.edges[e + eType]];
      yield [s.edges[e + eTo] / NF, t === 'element' || t === 'hidden' ? `#${s.edges[e + eName]}` : s.strings[s.edges[e + eName]]];
    }
  };
  const LF = m.location_fields.length;
  const [lObj, lLine, lCol] = ['object_index', 'line', 'column'].map((k) => m.location_fields.indexOf(k));
  const where = new Map<number, [number, number]>();
  for (let i = 0; i < s.locations.length; i += LF) where.set(s.locations[i + lObj] / NF, [s.locations[i + lLine], s.locations[i + lCol]]);

  const out = new Map<string, Group>();
  const counted = new Set<number>();
  for (let c = 0; c < count; c++) {
    if (nodeTypes[s.nodes[c * NF + fType]] !== 'closure') continue;
    let code = -1;
    let shared = -1;
    for (const [to, n] of edges(c)) {
      if (n === 'code') code = to;
      else if (n === 'shared') shared = to;
    }
    if (code < 0 || counted.has(code) || name(code) !== 'system / Code') continue;
    let bytes = size(code);
    let machineCode = false;
    for (const [to, n] of edges(code)) {
      if (n === 'instruction_stream') machineCode = true;
      if (['system / InstructionStream', 'system / TrustedByteArray', 'system / ProtectedFixedArray'].includes(name(to))) bytes += size(to);
    }
    if (!machineCode) continue; // a builtin (e.g. the interpreter entry): nothing compiled for it
    let url = '?';
    let baseline = false;
    if (shared >= 0)
      for (const [to, n] of edges(shared)) {
        if (n === 'trusted_function_data' && to === code) baseline = true; // Sparkplug code of the bytecode
        if (name(to).startsWith('system / Script / ')) url = name(to).slice('system / Script / '.length);
      }
    if (baseline) continue;
    counted.add(code);
    let module = url.replace(/^https?:\/\/[^/]+/, '');
    let fn = name(c) || '(anonymous)';
    const at = where.get(c);
    const tm = mapFor(url);
    if (at && tm) {
      const o = originalPositionFor(tm, { line: at[0] + 1, column: at[1] });
      if (o.source) {
        module = o.source.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, '');
        fn = `${o.name ?? fn}:${o.line}`;
      }
    }
    const k = `${module}\t${fn}`;
    const g = out.get(k) ?? { bytes: 0, functions: 0 };
    g.bytes += bytes;
    g.functions += 1;
    out.set(k, g);
  }
  return out;
}

const [a, b] = [optimizedCode(args[0]), optimizedCode(args[1])];
function grouped(key: (k: string) => string): [string, { a: Group; b: Group }][] {
  const m = new Map<string, { a: Group; b: Group }>();
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const g = m.get(key(k)) ?? { a: { bytes: 0, functions: 0 }, b: { bytes: 0, functions: 0 } };
    for (const side of ['a', 'b'] as const) {
      const x = (side === 'a' ? a : b).get(k);
      if (x) {
        g[side].bytes += x.bytes;
        g[side].functions += x.functions;
      }
    }
    m.set(key(k), g);
  }
  return [...m].sort((x, y) => y[1].b.bytes - y[1].a.bytes - (x[1].b.bytes - x[1].a.bytes));
}
const line = ([k, g]: [string, { a: Group; b: Group }]) =>
  `${((g.b.bytes - g.a.bytes) / 1024).toFixed(1).padStart(8)} KB  (${(g.a.bytes / 1024).toFixed(0)} → ${(g.b.bytes / 1024).toFixed(0)} KB, ${g.a.functions} → ${g.b.functions} functions)  ${k}`;

console.log(`optimized code, start → end:\n${line(grouped(() => 'all')[0])}`);
console.log('by package area:');
for (const r of grouped((k) => k.split('\t')[0].split('/').slice(0, 3).join('/')).slice(0, top)) console.log(line(r));
console.log('by module:');
for (const r of grouped((k) => k.split('\t')[0]).slice(0, top)) console.log(line(r));
