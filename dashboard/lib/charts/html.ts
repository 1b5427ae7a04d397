// ECharts renders a tooltip formatter's string as HTML. Every tooltip formatter builds its string
// with this one template tag, markup``, which escapes every interpolated value: area names, rule names and
// periods come from department feeds, and a town named `<meta http-equiv=refresh …>` must stay text.
// (Label formatters draw on the canvas and need no escaping.)

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Markup written here stays markup; every `${value}` is escaped. Pass trusted markup with {@link trusted}.
 *  (Not named html``: Prettier would reformat such templates as HTML and change the strings.) */
export function markup(parts: TemplateStringsArray, ...values: unknown[]): string {
  return parts.reduce(
    (out, part, i) =>
      out + part + (i < values.length ? (values[i] instanceof Trusted ? (values[i] as Trusted).markup : escapeHtml(values[i])) : ''),
    ''
  );
}

class Trusted {
  constructor(readonly markup: string) {}
}

/** Markup ECharts made itself (a series' colour marker), passed through markup`` unescaped. */
export function trusted(markup: string): Trusted {
  return new Trusted(markup);
}
