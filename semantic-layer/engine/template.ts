// SQL snippets of the model with Cube's `{…}` references: {CUBE}, {CUBE.member}, {member},
// {other_cube.member}, {other_cube}. `{{` / `}}` are literal braces (YAML strings are Python
// f-strings in Cube). Anything else inside braces is rejected when the model loads.

export type TemplatePart = { text: string } | { ref: string[]; raw: string };

export interface Template {
  source: string;
  parts: TemplatePart[];
}

const REF_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '{' && source[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (c === '}' && source[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0) throw new Error(`unclosed '{' in "${source}"`);
      const raw = source.slice(i + 1, end).trim();
      if (!REF_RE.test(raw)) {
        throw new Error(`unsupported expression {${raw}} in "${source}" (only member references like {CUBE.member} are supported)`);
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ ref: raw.split('.'), raw });
      i = end + 1;
    } else if (c === '}') {
      throw new Error(`unmatched '}' in "${source}"`);
    } else {
      text += c;
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return { source, parts };
}

export function isRef(p: TemplatePart): p is { ref: string[]; raw: string } {
  return 'ref' in p;
}
