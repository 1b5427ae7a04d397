// The documentation cannot drift from the code: the generated tables of docs/*.md equal what
// docs/generate.ts produces from the code now, every catalogue entry, feed and indicator is named in
// the docs, every relative link resolves, and no document sends the reader to files they do not have.
// Database-free (unit project). After a change to the feeds, the model, the catalogues or rules.json:
// `npm run docs:generate`.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCS, ROOT, expectedDocs, modelIndicators, thresholdText } from './generate.ts';
import { FEEDS } from '../jobs/ingest/feeds.ts';
import { alertRuleNames, evidenceKinds, evidenceSources, schemes, subsidyProjects } from '../core/reference/index.ts';
import { RISK_RULES } from '../core/reference/rules.ts';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const docs = Object.fromEntries(DOCS.map((f) => [f, read(f)])) as Record<(typeof DOCS)[number], string>;
/** The documents a user of the repository reads. */
const READMES = ['README.md', 'semantic-layer/README.md', 'seeds/generator/README.md'];

/** The text of a `## heading` section (up to the next heading of the same or a higher level). */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return '';
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** GitHub's anchor for each heading of a markdown text. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of stripCode(text).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

function stripCode(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Relative link targets of a markdown text ([text](target), ![alt](target)). */
function links(text: string): string[] {
  return [...stripCode(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('docs/*.md', () => {
  it('hold exactly what docs/generate.ts generates from the code now (run `npm run docs:generate`)', async () => {
    const expected = await expectedDocs();
    for (const file of DOCS) expect(docs[file], `${file} is out of date: run npm run docs:generate`).toBe(expected.get(file));
  });

  it('list every indicator of the model with its names and thresholds, and define each one', () => {
    const indicators = modelIndicators();
    expect(indicators.length).toBe(41);
    const definitions = section(docs['docs/indicators.md'], '## Definitions');
    const defined = [...definitions.matchAll(/^\| ([A-Z]\d\d) +\|/gm)].map((m) => m[1]);
    expect(defined.sort()).toEqual(indicators.map((i) => i.code).sort());
    for (const i of indicators) {
      const row = docs['docs/indicators.md'].split('\n').find((l) => l.startsWith(`| **${i.code}**`));
      expect(row, i.code).toBeDefined();
      for (const s of [
        i.meta.title_zh,
        i.meta.title_en,
        thresholdText(i.meta.thresholds, String(i.meta.unit)).replaceAll('|', '\\|'),
        i.member
      ])
        expect(row, `${i.code}: ${s}`).toContain(s);
    }
  });

  it('name every feed, scheme, subsidy project, evidence kind and source, and alert rule', () => {
    const feeds = docs['docs/feeds.md'];
    const rules = docs['docs/rules.md'];
    for (const f of [...FEEDS.map((x) => x.feed), 'payroll_draft']) expect(feeds, f).toMatch(new RegExp(`^### ${f}$`, 'm'));
    const cell = (text: string, code: string) => expect(text, code).toContain(`| \`${code}\` `);
    for (const s of schemes) cell(section(rules, '### Schemes'), s.code);
    for (const p of subsidyProjects) cell(section(rules, '### Subsidy projects'), p.code);
    for (const k of evidenceKinds) cell(section(rules, '### Evidence kinds'), k.kind);
    for (const s of evidenceSources) cell(section(rules, '### Evidence sources'), s.code);
    for (const r of new Set([...RISK_RULES, ...alertRuleNames.keys()])) cell(section(rules, '## Fund-risk rules'), r);
  });

  it('resolve every relative link and anchor of the README files and docs', () => {
    let checked = 0;
    for (const file of [...READMES, ...DOCS]) {
      for (const target of links(read(file))) {
        const [rel, anchor] = target.split('#');
        const dest = rel ? path.join(path.dirname(file), decodeURIComponent(rel)) : file;
        expect(fs.existsSync(path.join(ROOT, dest)), `${file}: link ${target} → ${dest} does not exist`).toBe(true);
        if (anchor && dest.endsWith('.md'))
          expect(anchors(read(dest)).has(anchor), `${file}: link ${target}: no heading #${anchor} in ${dest}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('never send the reader to the product brief, which is not in the repository', () => {
    // Every mention of feeds.md / rules.md / indicators.md is of docs/…; nothing points at the brief's folder.
    const self = path.relative(ROOT, fileURLToPath(import.meta.url));
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && f !== self && /\.(md|ts|js|svelte|sql|ya?ml|json)$/.test(f) && fs.existsSync(path.join(ROOT, f)));
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const f of files) {
      const text = read(f);
      const bad =
        /\.\.\/shared\b|shared\/spec|shared\/design/.exec(text) ??
        (f.startsWith('docs/') ? null : /(?<!docs\/)(?<![\w.-])(feeds|rules|indicators)\.md\b/.exec(text));
      if (bad) offenders.push(`${f}: …${text.slice(Math.max(0, bad.index - 40), bad.index + 30).replace(/\s+/g, ' ')}…`);
    }
    expect(offenders).toEqual([]);
  });
});
