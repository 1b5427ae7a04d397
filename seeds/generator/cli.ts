// `yinling seed`: generate the synthetic city into an inbox folder and print what was planted.
// Exit codes: 0 ok, 1 failure, 2 bad usage.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_AS_OF, FEEDS, generateCity, type GroundTruth } from './index.ts';
import { RULES, SCALES, type Scale } from './plan.ts';

export const SEED_USAGE = `Usage: yinling seed [--scale demo|town|city|city3|tiny] [--seed N] [--out DIR] [--as-of YYYY-MM-DD] [--clean]

Writes a deterministic synthetic city (越州市) as department feed files into DIR:
one folder per feed (regions, persons, enrollments, payments, evidence, certifications,
deaths, imprisonments, subsidies, hardship, checkups, fund, activities), the expected
results in DIR/.ground-truth.json and district/town/community polygons in DIR/.geo/city.geojson.
Same options ⇒ byte-identical files.

Options:
  --scale   tiny (≈600 recipients), demo (20,000 + 46,000 insured, default),
            town (1/16 of the city, 50 communities: bench:scale),
            city (330,000 + 760,000 insured, 800 communities, 36 months of payments),
            city3 (three times the city, 2,400 communities: bench:scale)
  --seed    non-negative integer (default 1)
  --out     inbox folder (default ./.data/inbox)
  --as-of   the date everything is relative to (default ${DEFAULT_AS_OF})
  --clean   first delete every .csv / .csv.part in DIR's feed folders (without it, only
            files of an earlier generator run are replaced and other feed files are an error)
  -h, --help`;

function usage(message: string): number {
  console.error(`yinling seed: ${message}\n\n${SEED_USAGE}`);
  return 2;
}

export async function seedCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scale: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'as-of': { type: 'string' },
        clean: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      },
      strict: true,
      allowPositionals: false
    }));
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    console.log(SEED_USAGE);
    return 0;
  }
  const scale = (values.scale ?? 'demo') as string;
  if (!(scale in SCALES)) return usage(`--scale must be one of ${Object.keys(SCALES).join(', ')}, got "${scale}"`);
  const seedText = (values.seed ?? '1') as string;
  if (!/^\d{1,9}$/.test(seedText)) return usage(`--seed must be a non-negative integer, got "${seedText}"`);
  const asOf = values['as-of'] as string | undefined;
  if (asOf !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || new Date(`${asOf}T00:00:00Z`).toISOString().slice(0, 10) !== asOf)) {
    return usage(`--as-of must be a real date YYYY-MM-DD, got "${asOf}"`);
  }
  const out = path.resolve((values.out ?? path.join('.data', 'inbox')) as string);

  const started = performance.now();
  let truth: GroundTruth;
  try {
    truth = await generateCity({ scale: scale as Scale, seed: Number(seedText), outDir: out, asOf, clean: Boolean(values.clean) });
  } catch (e) {
    console.error(`yinling seed: generation failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  console.log(summary(truth, out, (performance.now() - started) / 1000));
  return 0;
}

export function summary(t: GroundTruth, out: string, seconds: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines: string[] = [];
  lines.push(`Synthetic city written to ${out} in ${seconds.toFixed(1)} s (scale ${t.scale}, seed ${t.seed}, as of ${t.asOf}).`);
  lines.push(`Payments ${t.window.first_period} … ${t.window.last_period}; evidence from ${t.window.evidence_from}.`);
  const f = t.counts.files;
  lines.push(
    `Files: ${f.total} (${f.loadable} loadable CSV, ${f.unreadable} unreadable, ${f.ignored_part} .part, ${f.duplicates} duplicate re-delivery).`
  );
  lines.push('Rows per feed (valid / quarantined):');
  for (const feed of FEEDS) {
    const c = t.counts[feed];
    lines.push(`  ${feed.padEnd(15)}${n(c.valid).padStart(12)} / ${c.quarantined}`);
  }
  const p = t.population;
  lines.push(
    `People: ${n(p.recipients_generated)} recipients generated (${n(p.recipients_active)} active at as-of), ${n(p.insured)} insured, ${n(p.deaths)} deaths, ${n(p.imprisonments)} imprisoned, ${n(p.suspended)} suspended.`
  );
  lines.push('Planted alerts per rule:');
  for (const rule of RULES) {
    const list = t.alerts.filter((a) => a.rule === rule);
    const fen = list.reduce((s, a) => s + Math.round(Number(a.amount_at_risk) * 100), 0);
    lines.push(`  ${rule.padEnd(22)}${String(list.length).padStart(5)}   amount at risk ${(fen / 100).toFixed(2)}`);
  }
  lines.push(
    `Certification: ${n(p.certified)} certified (${n(p.certified_silent)} silent), ${n(p.not_certified)} not certified, ${n(p.negative)} negative; expected silent rate ${(t.silentRate * 100).toFixed(2)}%.`
  );
  lines.push(`Ground truth: ${path.join(out, '.ground-truth.json')}`);
  return lines.join('\n');
}
